/**
 * Eureka's registration body (`POST /eureka/apps/{APP}` with `{"instance":{…}}`) checked and
 * translated into a fleetgate {@link RegistrationInput}. The Eureka fields a client reads back
 * (hostName, ipAddr, ports, vipAddress, URLs, dataCenterInfo, metadata) are kept under
 * `metadata.eureka`, and `metadata.origin` says the instance came through Eureka.
 */
import { FleetgateError } from '../../errors.js';
import { isValidName } from '../../registry/http/registration-schema.js';
import type { InstanceStatus, RegistrationInput } from '../../registry/model.js';
import { fleetgateInstanceId } from '../compat-instance-id.js';

/** Eureka's instance statuses. */
export type EurekaStatus = 'UP' | 'DOWN' | 'STARTING' | 'OUT_OF_SERVICE' | 'UNKNOWN';

/** What fleetgate keeps of a Eureka instance (`metadata.eureka`). */
export interface EurekaRecord {
  app: string;
  instanceId: string;
  hostName: string;
  ipAddr: string;
  port: { $: number; '@enabled': boolean };
  securePort: { $: number; '@enabled': boolean };
  vipAddress?: string;
  secureVipAddress?: string;
  homePageUrl?: string;
  statusPageUrl?: string;
  healthCheckUrl?: string;
  dataCenterInfo: { name: string; '@class'?: string };
  /** Lease duration the client asked for, in seconds: the instance's lease, capped at the registry's TTL. */
  durationInSecs?: number;
  metadata: Record<string, string>;
}

/** Service names are at most this long (the registration API's default). */
const MAX_NAME = 64;
/** Most bytes of a Eureka instance's own metadata, as JSON. */
const MAX_METADATA_BYTES = 4096;

/** fleetgate status for a Eureka status: STARTING is not in service yet, OUT_OF_SERVICE drains. */
export function statusFromEureka(status: EurekaStatus): InstanceStatus {
  switch (status) {
    case 'UP':
      return 'UP';
    case 'OUT_OF_SERVICE':
      return 'DRAINING';
    case 'UNKNOWN':
      return 'UNKNOWN';
    default:
      return 'DOWN';
  }
}

/** Eureka status for a fleetgate status. */
export function statusToEureka(status: InstanceStatus): EurekaStatus {
  return status === 'DRAINING' ? 'OUT_OF_SERVICE' : status;
}

/** Parses a Eureka status (case-insensitive); `undefined` when it is not one. */
export function parseEurekaStatus(value: unknown): EurekaStatus | undefined {
  if (typeof value !== 'string') return undefined;
  const s = value.toUpperCase();
  return ['UP', 'DOWN', 'STARTING', 'OUT_OF_SERVICE', 'UNKNOWN'].includes(s) ? (s as EurekaStatus) : undefined;
}

/** The fleetgate service of a Eureka app: its name lower-cased. */
export function serviceOfApp(app: string): string {
  return app.toLowerCase();
}

/**
 * Checks a registration body against the app in the path and translates it.
 * @throws FleetgateError `ERR_FG_INVALID_BODY` naming every missing or malformed field.
 */
export function parseEurekaRegistration(
  pathApp: string,
  body: unknown,
): RegistrationInput & { metadata: { eureka: EurekaRecord } } {
  const problems: { path: string; message: string }[] = [];
  const bad = (path: string, message: string) => problems.push({ path, message });
  const inst = isObject(body) && isObject(body.instance) ? body.instance : undefined;
  if (inst === undefined) throw invalid([{ path: 'instance', message: 'expected {"instance":{…}}' }]);

  const str = (field: string): string | undefined => {
    const v = inst[field];
    if (v === undefined || v === null || v === '') return undefined;
    if (typeof v !== 'string') {
      bad(`instance.${field}`, 'expected a string');
      return undefined;
    }
    return v;
  };
  const app = str('app');
  const hostName = str('hostName');
  const ipAddr = str('ipAddr');
  for (const [field, v] of [
    ['app', app],
    ['hostName', hostName],
    ['ipAddr', ipAddr],
  ] as const)
    if (v === undefined && !problems.some((p) => p.path === `instance.${field}`)) bad(`instance.${field}`, 'required');
  if (app !== undefined && app.toLowerCase() !== pathApp.toLowerCase())
    bad('instance.app', `"${app}" differs from the app in the path, "${pathApp}"`);
  if (!isValidName(serviceOfApp(pathApp), MAX_NAME))
    bad('app', `an app name may hold only letters, digits, '.', '_' and '-' (at most ${MAX_NAME})`);

  const dc = inst.dataCenterInfo;
  if (!isObject(dc) || typeof dc.name !== 'string' || dc.name === '') bad('instance.dataCenterInfo.name', 'required');
  const port = parsePort(inst.port, 'instance.port', bad);
  const securePort = parsePort(inst.securePort, 'instance.securePort', bad);
  const statusRaw = inst.status ?? 'UP';
  const status = parseEurekaStatus(statusRaw);
  if (status === undefined) bad('instance.status', 'expected UP, DOWN, STARTING, OUT_OF_SERVICE or UNKNOWN');
  const metadata = inst.metadata ?? {};
  if (!isObject(metadata) || Object.values(metadata).some((v) => !['string', 'number', 'boolean'].includes(typeof v)))
    bad('instance.metadata', 'expected an object of strings');
  else if (Buffer.byteLength(JSON.stringify(metadata)) > MAX_METADATA_BYTES)
    bad('instance.metadata', `at most ${MAX_METADATA_BYTES} bytes`);
  const lease = inst.leaseInfo;
  const duration = isObject(lease) ? Number(lease.durationInSecs) : Number.NaN;
  const opt = { vipAddress: str('vipAddress'), secureVipAddress: str('secureVipAddress') };
  const urls = {
    homePageUrl: str('homePageUrl'),
    statusPageUrl: str('statusPageUrl'),
    healthCheckUrl: str('healthCheckUrl'),
  };
  const explicitId = str('instanceId');

  const usePort = port?.['@enabled'] ? port : securePort?.['@enabled'] ? securePort : undefined;
  if (port !== undefined && securePort !== undefined && usePort === undefined)
    bad('instance.port', 'neither port nor securePort is enabled');
  if (
    problems.length > 0 ||
    app === undefined ||
    hostName === undefined ||
    ipAddr === undefined ||
    usePort === undefined
  )
    throw invalid(problems.length > 0 ? problems : [{ path: 'instance.port', message: 'required' }]);

  const scheme = usePort === port ? 'http' : 'https';
  const host = ipAddr.includes(':') ? `[${ipAddr}]` : ipAddr;
  const url = `${scheme}://${host}:${usePort.$}`;
  const eurekaId = explicitId ?? hostName;
  const record: EurekaRecord = {
    app: app.toUpperCase(),
    instanceId: eurekaId,
    hostName,
    ipAddr,
    port: port ?? { $: 0, '@enabled': false },
    securePort: securePort ?? { $: 0, '@enabled': false },
    ...defined(opt),
    ...defined(urls),
    dataCenterInfo: {
      name: (dc as { name: string }).name,
      ...(isObject(dc) && typeof dc['@class'] === 'string' ? { '@class': dc['@class'] } : {}),
    },
    ...(Number.isFinite(duration) && duration > 0 ? { durationInSecs: duration } : {}),
    metadata: Object.fromEntries(Object.entries(metadata as Record<string, unknown>).map(([k, v]) => [k, String(v)])),
  };
  const healthEndpoint = sameOriginPath(urls.healthCheckUrl, url, hostName);
  return {
    service: serviceOfApp(pathApp),
    instanceId: fleetgateInstanceId(eurekaId),
    url,
    ...(healthEndpoint === undefined ? {} : { healthEndpoint }),
    status: statusFromEureka(status ?? 'UP'),
    metadata: { origin: 'eureka', eureka: record },
    // Eureka's lease becomes the instance's own (the registry caps it at its TTL).
    ...(record.durationInSecs === undefined ? {} : { leaseMs: record.durationInSecs * 1000 }),
  };
}

type Bad = (path: string, message: string) => void;

/** `8080`, `"8080"` or `{"$": 8080, "@enabled": true|"true"}`; absent is `undefined`. */
function parsePort(value: unknown, path: string, bad: Bad): { $: number; '@enabled': boolean } | undefined {
  if (value === undefined || value === null) return undefined;
  let n: unknown = value;
  let enabled: unknown = true;
  if (isObject(value)) {
    n = value.$;
    enabled = value['@enabled'] ?? true;
  }
  const port = typeof n === 'string' && /^\d+$/.test(n) ? Number(n) : n;
  if (typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65535) {
    bad(path, 'expected a port number or {"$": n, "@enabled": true}');
    return undefined;
  }
  if (enabled !== true && enabled !== false && enabled !== 'true' && enabled !== 'false') {
    bad(`${path}.@enabled`, 'expected true or false');
    return undefined;
  }
  return { $: port, '@enabled': enabled === true || enabled === 'true' };
}

/** The health check path when `healthCheckUrl` points at the instance itself (by ipAddr or hostName). */
function sameOriginPath(healthCheckUrl: string | undefined, url: string, hostName: string): string | undefined {
  if (healthCheckUrl === undefined) return undefined;
  try {
    const h = new URL(healthCheckUrl);
    const u = new URL(url);
    const sameHost = h.hostname === u.hostname || h.hostname === hostName;
    return sameHost && h.port === u.port && h.protocol === u.protocol ? `${h.pathname}${h.search}` : undefined;
  } catch {
    return undefined;
  }
}

function defined<T extends Record<string, string | undefined>>(o: T): Partial<Record<keyof T, string>> {
  const out: Partial<Record<keyof T, string>> = {};
  for (const [k, v] of Object.entries(o)) if (v !== undefined) out[k as keyof T] = v;
  return out;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function invalid(details: { path: string; message: string }[]): FleetgateError {
  return new FleetgateError(
    'ERR_FG_INVALID_BODY',
    `invalid Eureka registration: ${details.map((d) => `${d.path} ${d.message}`).join('; ')}`,
    {
      details,
    },
  );
}
