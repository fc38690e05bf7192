/**
 * Consul's `PUT /v1/agent/service/register` body checked and translated into a fleetgate
 * {@link RegistrationInput}. The Consul fields read back by catalog and health queries (ID, Name,
 * Tags, Address, Port, Meta, Weights, checks) are kept under `metadata.consul`, and
 * `metadata.origin` says the instance came through Consul.
 */
import { FleetgateError } from '../../errors.js';
import { isValidName } from '../../registry/http/registration-schema.js';
import type { RegistrationInput, ServiceInstance } from '../../registry/model.js';
import { fleetgateInstanceId } from '../compat-instance-id.js';

/** A check of a Consul service, as registered. */
export interface ConsulCheckSpec {
  checkId: string;
  name: string;
  /** `ttl`: the service reports (pass/warn/fail); `http`: fleetgate's health checker probes. */
  kind: 'ttl' | 'http';
  ttlMs?: number;
  http?: string;
  intervalMs?: number;
  deregisterCriticalAfterMs?: number;
}

/** What fleetgate keeps of a Consul service (`metadata.consul`). */
export interface ConsulRecord {
  id: string;
  name: string;
  tags: string[];
  address: string;
  port: number;
  meta: Record<string, string>;
  weights: { Passing: number; Warning: number };
  checks: ConsulCheckSpec[];
}

const MAX_NAME = 64;

/** The Consul record kept at registration, if the instance came through Consul. */
export function consulRecordOf(inst: ServiceInstance): ConsulRecord | undefined {
  const c = inst.metadata.consul;
  return inst.metadata.origin === 'consul' && typeof c === 'object' && c !== null ? (c as ConsulRecord) : undefined;
}

/**
 * Parses a Go duration (`10s`, `1m30s`, `500ms`).
 * @example goDuration('1m30s') // 90000
 */
export function goDuration(value: unknown): number | undefined {
  if (typeof value !== 'string' || !/^(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+$/.test(value)) return undefined;
  const units: Record<string, number> = { ns: 1e-6, us: 1e-3, µs: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
  let ms = 0;
  for (const m of value.matchAll(/(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/g)) ms += Number(m[1]) * (units[m[2]!] ?? 0);
  return Math.round(ms);
}

/**
 * Checks a registration body and translates it.
 * @throws FleetgateError `ERR_FG_INVALID_BODY` naming every missing or malformed field.
 */
export function parseConsulRegistration(body: unknown): { input: RegistrationInput; record: ConsulRecord } {
  const problems: { path: string; message: string }[] = [];
  const bad = (path: string, message: string) => problems.push({ path, message });
  if (!isObject(body)) throw invalid([{ path: '', message: 'expected a JSON object' }]);
  const name = body.Name;
  if (typeof name !== 'string' || name === '') bad('Name', 'required');
  else if (!isValidName(name.toLowerCase(), MAX_NAME))
    bad('Name', `may hold only letters, digits, '.', '_' and '-' (at most ${MAX_NAME})`);
  const id = body.ID === undefined || body.ID === '' ? name : body.ID;
  if (typeof id !== 'string') bad('ID', 'expected a string');
  const tags = body.Tags ?? [];
  if (!Array.isArray(tags) || tags.some((t) => typeof t !== 'string')) bad('Tags', 'expected an array of strings');
  const address = body.Address ?? '';
  if (typeof address !== 'string') bad('Address', 'expected a string');
  const port = body.Port ?? 0;
  if (typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65535)
    bad('Port', 'required: a port number (fleetgate routes to Address:Port)');
  const meta = body.Meta ?? {};
  if (!isObject(meta) || Object.values(meta).some((v) => typeof v !== 'string'))
    bad('Meta', 'expected an object of strings');
  const weights = body.Weights ?? { Passing: 1, Warning: 1 };
  const passing = isObject(weights) ? (weights.Passing ?? 1) : undefined;
  const warning = isObject(weights) ? (weights.Warning ?? 1) : undefined;
  if (typeof passing !== 'number' || typeof warning !== 'number' || passing < 1 || warning < 0)
    bad('Weights', 'expected {"Passing": n ≥ 1, "Warning": n ≥ 0}');
  const rawChecks: unknown[] = [];
  if (body.Check !== undefined && body.Check !== null) rawChecks.push(body.Check);
  if (body.Checks !== undefined && body.Checks !== null) {
    if (Array.isArray(body.Checks)) rawChecks.push(...body.Checks);
    else bad('Checks', 'expected an array');
  }
  const checks: ConsulCheckSpec[] = [];
  rawChecks.forEach((c, i) => {
    const where = body.Check !== undefined && i === 0 ? 'Check' : `Checks[${body.Check !== undefined ? i - 1 : i}]`;
    const spec = parseCheck(c, where, typeof id === 'string' ? id : '', rawChecks.length, i, bad);
    if (spec !== undefined) checks.push(spec);
  });
  if (problems.length > 0) throw invalid(problems);

  const service = (name as string).toLowerCase();
  const host = address === '' ? '127.0.0.1' : (address as string);
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port as number}`;
  const record: ConsulRecord = {
    id: id as string,
    name: name as string,
    tags: tags as string[],
    address: address as string,
    port: port as number,
    meta: meta as Record<string, string>,
    weights: { Passing: passing as number, Warning: warning as number },
    checks,
  };
  const http = checks.find((c) => c.kind === 'http');
  const healthEndpoint = http?.http === undefined ? undefined : samePath(http.http, url);
  const hasTtl = checks.some((c) => c.kind === 'ttl');
  const input: RegistrationInput = {
    service,
    instanceId: fleetgateInstanceId(id as string),
    url,
    weight: passing as number,
    // A TTL check starts critical until its first pass (Consul's rule), so out of routing.
    status: hasTtl ? 'DOWN' : 'UP',
    metadata: { origin: 'consul', consul: record },
  };
  if (healthEndpoint !== undefined) input.healthEndpoint = healthEndpoint;
  return { input, record };
}

function parseCheck(
  c: unknown,
  where: string,
  serviceId: string,
  count: number,
  index: number,
  bad: (path: string, message: string) => void,
): ConsulCheckSpec | undefined {
  if (!isObject(c)) {
    bad(where, 'expected an object');
    return undefined;
  }
  const checkId =
    typeof c.CheckID === 'string' && c.CheckID !== ''
      ? c.CheckID
      : count === 1
        ? `service:${serviceId}`
        : `service:${serviceId}:${index + 1}`;
  const name = typeof c.Name === 'string' && c.Name !== '' ? c.Name : `Service '${serviceId}' check`;
  const deregister =
    c.DeregisterCriticalServiceAfter === undefined ? undefined : goDuration(c.DeregisterCriticalServiceAfter);
  if (c.DeregisterCriticalServiceAfter !== undefined && deregister === undefined)
    bad(`${where}.DeregisterCriticalServiceAfter`, 'expected a duration such as 1m');
  const base = { checkId, name, ...(deregister === undefined ? {} : { deregisterCriticalAfterMs: deregister }) };
  if (c.TTL !== undefined) {
    const ttl = goDuration(c.TTL);
    if (ttl === undefined || ttl <= 0) bad(`${where}.TTL`, 'expected a duration such as 10s');
    return { ...base, kind: 'ttl', ttlMs: ttl ?? 0 };
  }
  if (c.HTTP !== undefined) {
    const interval = goDuration(c.Interval);
    if (typeof c.HTTP !== 'string' || !/^https?:\/\//.test(c.HTTP)) bad(`${where}.HTTP`, 'expected an http(s) URL');
    if (interval === undefined || interval <= 0) bad(`${where}.Interval`, 'required with HTTP: a duration such as 10s');
    return { ...base, kind: 'http', http: String(c.HTTP), intervalMs: interval ?? 0 };
  }
  bad(where, 'only TTL and HTTP checks are supported');
  return undefined;
}

function samePath(checkUrl: string, url: string): string | undefined {
  try {
    const c = new URL(checkUrl);
    const u = new URL(url);
    return c.host === u.host && c.protocol === u.protocol ? `${c.pathname}${c.search}` : undefined;
  } catch {
    return undefined;
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function invalid(details: { path: string; message: string }[]): FleetgateError {
  return new FleetgateError(
    'ERR_FG_INVALID_BODY',
    `invalid Consul registration: ${details.map((d) => `${d.path} ${d.message}`).join('; ')}`,
    { details },
  );
}
