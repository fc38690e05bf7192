/**
 * Registry instances in Eureka's JSON shape (`{"applications":{…,"application":[…]}}`), for
 * every instance of the registry, not only those that came through Eureka: a Eureka client
 * discovers natively registered services too. `application` and `instance` are always arrays.
 */
import type { ServiceInstance } from '../../registry/model.js';
import { type EurekaRecord, type EurekaStatus, statusToEureka } from './eureka-registration.js';

/** Eureka's delta action for an instance. */
export type EurekaAction = 'ADDED' | 'MODIFIED' | 'DELETED';

/** One instance as Eureka serves it. */
export interface EurekaInstanceJson {
  instanceId: string;
  hostName: string;
  app: string;
  ipAddr: string;
  status: EurekaStatus;
  overriddenStatus: EurekaStatus;
  port: { $: number; '@enabled': 'true' | 'false' };
  securePort: { $: number; '@enabled': 'true' | 'false' };
  countryId: number;
  dataCenterInfo: { '@class': string; name: string };
  leaseInfo: {
    renewalIntervalInSecs: number;
    durationInSecs: number;
    registrationTimestamp: number;
    lastRenewalTimestamp: number;
    evictionTimestamp: number;
    serviceUpTimestamp: number;
  };
  metadata: Record<string, string>;
  homePageUrl: string;
  statusPageUrl: string;
  healthCheckUrl: string;
  vipAddress: string;
  secureVipAddress: string;
  isCoordinatingDiscoveryServer: 'false';
  lastUpdatedTimestamp: number;
  lastDirtyTimestamp: number;
  actionType: EurekaAction;
}

/** One application (all instances of one service). */
export interface EurekaApplicationJson {
  name: string;
  instance: EurekaInstanceJson[];
}

/** The `applications` document. */
export interface EurekaApplicationsJson {
  applications: { versions__delta: string; apps__hashcode: string; application: EurekaApplicationJson[] };
}

const DEFAULT_DC = 'com.netflix.appinfo.InstanceInfo$DefaultDataCenterInfo';

/** The Eureka record kept at registration, if the instance came through Eureka. */
export function eurekaRecordOf(instance: ServiceInstance): EurekaRecord | undefined {
  const e = instance.metadata.eureka;
  return instance.metadata.origin === 'eureka' && typeof e === 'object' && e !== null ? (e as EurekaRecord) : undefined;
}

/**
 * An instance in Eureka's shape; `ttlMs` is the registry's lease, for an instance without its own.
 * @example instanceToEureka(registry.get('orders', 'host-1')!, registry.ttlMs).port // { $: 8080, '@enabled': 'true' }
 */
export function instanceToEureka(
  inst: ServiceInstance,
  ttlMs: number,
  action: EurekaAction = 'ADDED',
): EurekaInstanceJson {
  const rec = eurekaRecordOf(inst);
  const url = new URL(inst.url);
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const portNumber = Number(url.port || (url.protocol === 'https:' ? 443 : 80));
  const secure = url.protocol === 'https:';
  const status = statusToEureka(inst.status);
  const home = rec?.homePageUrl ?? `${inst.url}/`;
  // The instance's own lease (its expiry minus its last renewal), else the registry's.
  const leaseMs = inst.expiresAt - inst.lastHeartbeat;
  const durationInSecs = Math.max(1, Math.round((leaseMs > 0 ? leaseMs : ttlMs) / 1000));
  return {
    instanceId: rec?.instanceId ?? inst.instanceId,
    hostName: rec?.hostName ?? host,
    app: rec?.app ?? inst.service.toUpperCase(),
    ipAddr: rec?.ipAddr ?? host,
    status,
    overriddenStatus: status === 'OUT_OF_SERVICE' ? 'OUT_OF_SERVICE' : 'UNKNOWN',
    port: enabled(rec?.port ?? { $: secure ? 0 : portNumber, '@enabled': !secure }),
    securePort: enabled(rec?.securePort ?? { $: secure ? portNumber : 443, '@enabled': secure }),
    countryId: 1,
    dataCenterInfo: {
      '@class': rec?.dataCenterInfo['@class'] ?? DEFAULT_DC,
      name: rec?.dataCenterInfo.name ?? 'MyOwn',
    },
    leaseInfo: {
      renewalIntervalInSecs: Math.max(1, Math.round(durationInSecs / 3)),
      durationInSecs,
      registrationTimestamp: inst.registeredAt,
      lastRenewalTimestamp: inst.lastHeartbeat,
      evictionTimestamp: 0,
      serviceUpTimestamp: inst.registeredAt,
    },
    metadata: rec?.metadata ?? stringValues(inst.metadata),
    homePageUrl: home,
    statusPageUrl: rec?.statusPageUrl ?? home,
    healthCheckUrl:
      rec?.healthCheckUrl ?? (inst.healthEndpoint === undefined ? home : `${inst.url}${inst.healthEndpoint}`),
    vipAddress: rec?.vipAddress ?? inst.service,
    secureVipAddress: rec?.secureVipAddress ?? inst.service,
    isCoordinatingDiscoveryServer: 'false',
    lastUpdatedTimestamp: inst.lastHeartbeat,
    lastDirtyTimestamp: inst.registeredAt,
    actionType: action,
  };
}

/** Groups instances into applications, sorted by name, for `GET /apps/`, `/vips/…` and deltas. */
export function applicationsJson(
  instances: readonly ServiceInstance[],
  ttlMs: number,
  version: number,
  hashOf: readonly ServiceInstance[] = instances,
  actions?: ReadonlyMap<ServiceInstance, EurekaAction>,
): EurekaApplicationsJson {
  const apps = new Map<string, EurekaInstanceJson[]>();
  for (const inst of instances) {
    const json = instanceToEureka(inst, ttlMs, actions?.get(inst));
    const list = apps.get(json.app);
    if (list === undefined) apps.set(json.app, [json]);
    else list.push(json);
  }
  return {
    applications: {
      versions__delta: String(version),
      apps__hashcode: appsHashcode(hashOf),
      application: [...apps.entries()]
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
        .map(([name, instance]) => ({ name, instance })),
    },
  };
}

/** Eureka's reconciliation hash: `STATUS_count_` per status, sorted, e.g. `DOWN_1_UP_3_`. */
export function appsHashcode(instances: readonly ServiceInstance[]): string {
  const counts = new Map<string, number>();
  for (const i of instances) {
    const s = statusToEureka(i.status);
    counts.set(s, (counts.get(s) ?? 0) + 1);
  }
  return [...counts.entries()]
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([s, n]) => `${s}_${n}_`)
    .join('');
}

function enabled(p: { $: number; '@enabled': boolean }): { $: number; '@enabled': 'true' | 'false' } {
  return { $: p.$, '@enabled': p['@enabled'] ? 'true' : 'false' };
}

function stringValues(meta: Record<string, unknown>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(meta)) if (typeof v !== 'object' && v !== undefined) out[k] = String(v);
  return out;
}
