/**
 * `eurekaApi()`: the Eureka REST API (`/eureka/apps/…` and `/eureka/v2/apps/…`) as a thin
 * translation onto the one registry, so unmodified Eureka clients (Spring, eureka-js-client)
 * register, heartbeat, discover and leave. No second store: registrations become registry
 * instances (`metadata.origin: "eureka"`), reads list the registry, and deltas come from the
 * registry's change events. Behind the registration API's allow-from and token guards; Eureka
 * clients never hold an `instance_token`, so none is asked for.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { type Clock, realClock } from '../../clock.js';
import type { TrustProxy } from '../../core/client-address.js';
import { mergeDefined } from '../../core/options-merge.js';
import { sendError, sendJson } from '../../core/send-error.js';
import { FleetgateError } from '../../errors.js';
import type { Next } from '../../http/compose.js';
import { readJsonBody } from '../../http/read-json-body.js';
import { type Logger, noopLogger } from '../../logger.js';
import type { RegistrationInput, ServiceInstance } from '../../registry/model.js';
import type { RegistryApi, RegistryChange } from '../../registry/registry-api.js';
import { createAccessGuard } from '../access-guard.js';
import { fleetgateInstanceId } from '../compat-instance-id.js';
import { type BoundState, bindRegistry, matchTarget, withBinding } from '../compat-registry.js';
import { EurekaDeltaLog } from './eureka-delta-log.js';
import { applicationsJson, eurekaRecordOf, instanceToEureka } from './eureka-json.js';
import { parseEurekaRegistration, parseEurekaStatus, serviceOfApp, statusFromEureka } from './eureka-registration.js';

/** Options of {@link eurekaApi}. */
export interface EurekaApiOptions {
  /**
   * The registry to translate onto. @default the process-wide default registry, shared with a
   * zero-argument `registry()` and `discoveryProxy()` (lib/registry/default-registry.ts)
   */
  registry: RegistryApi | undefined;
  /** Caller CIDRs, as for the registration API. @default loopback */
  allowFrom: readonly string[];
  /** Proxies whose `X-Forwarded-For` is believed. @default false */
  trustProxy: TrustProxy;
  /** Token required as Bearer, or as the password of HTTP Basic. @default undefined (none) */
  token: string | undefined;
  /** Largest registration body, in bytes. @default 65536 */
  maxBodyBytes: number;
  /** How long a change stays in `GET …/apps/delta`, in ms (Eureka: 3 minutes). @default 180000 */
  deltaRetentionMs: number;
  /** @default realClock */
  clock: Clock;
  /** @default noopLogger */
  logger: Logger;
}

/** Defaults of {@link EurekaApiOptions}. Frozen. */
export const EUREKA_API_DEFAULTS: Readonly<EurekaApiOptions> = Object.freeze({
  registry: undefined,
  allowFrom: Object.freeze(['127.0.0.0/8', '::1/128', '::ffff:127.0.0.0/104']),
  trustProxy: false,
  token: undefined,
  maxBodyBytes: 64 * 1024,
  deltaRetentionMs: 180_000,
  clock: realClock,
  logger: noopLogger,
});

/** The middleware returned by {@link eurekaApi}. */
export interface EurekaApiMiddleware extends AsyncDisposable {
  (req: IncomingMessage, res: ServerResponse, next?: Next): void;
  /** Resolves once the registry exists (created from the environment when none was given). */
  ready(): Promise<void>;
  /** Stops following the registry's changes and gives back its lease on the default registry. Idempotent. */
  close(): Promise<void>;
}

const PATH = /^\/eureka(?:\/v2)?\/(apps|vips|instances)(?:\/(.*))?$/;

/**
 * Creates the Eureka REST API middleware.
 * @example
 * app.use(eurekaApi({ registry: reg, token: process.env.REGISTRY_TOKEN }));
 * // eureka-js-client: new Eureka({ eureka: { host: 'gateway', port: 8080, servicePath: '/eureka/apps/' }, instance: {…} })
 * @example
 * app.use(registry()); app.use(eurekaApi()); app.use(discoveryProxy()); // one default registry
 * @throws FleetgateError `ERR_FG_INVALID_CONFIG` with invalid guards.
 */
export function eurekaApi(options: Partial<EurekaApiOptions> = {}): EurekaApiMiddleware {
  const o = mergeDefined(EUREKA_API_DEFAULTS, options);
  const guard = createAccessGuard(o, 'Eureka');
  const bound = bindRegistry(o.registry, (reg) => eurekaState(reg, o), closedError);

  const serve = async (
    req: IncomingMessage,
    res: ServerResponse,
    kind: string,
    rest: string[],
    query: URLSearchParams,
  ): Promise<void> => {
    // Guarded before the registry is touched: a refused caller never creates the default one.
    guard(req);
    const state = await bound.get();
    await state.serve(req, res, kind, rest, query);
  };

  const handler = (req: IncomingMessage, res: ServerResponse, next?: Next): void => {
    const url = req.url ?? '/';
    const target = matchTarget(url, PATH);
    if (target === undefined) {
      if (next !== undefined) next();
      else sendError(res, new FleetgateError('ERR_FG_NOT_FOUND', `no Eureka resource at ${url}`));
      return;
    }
    const { match: m, query } = target;
    let rest: string[];
    try {
      rest = (m[2] ?? '')
        .split('/')
        .filter((s) => s !== '')
        .map((s) => decodeURIComponent(s));
    } catch {
      sendError(res, new FleetgateError('ERR_FG_NOT_FOUND', `no Eureka resource at ${url}`));
      return;
    }
    serve(req, res, m[1]!, rest, query).catch((err: unknown) => sendError(res, err, { logger: o.logger }));
  };
  return withBinding(handler, bound);
}

/** The Eureka API's state on one registry: the delta log and the request handling. */
interface EurekaState extends BoundState {
  serve(req: IncomingMessage, res: ServerResponse, kind: string, rest: string[], query: URLSearchParams): Promise<void>;
}

function eurekaState(reg: RegistryApi, o: EurekaApiOptions): EurekaState {
  let version = 0;
  const deltas = new EurekaDeltaLog(o.deltaRetentionMs, o.clock);
  const onChange = (c: RegistryChange): void => {
    if (deltas.record(c)) version++;
  };
  reg.on('change', onChange);

  const live = (): ServiceInstance[] => reg.instances();
  const find = (app: string, eurekaId: string): ServiceInstance | undefined =>
    reg.get(serviceOfApp(app), fleetgateInstanceId(eurekaId));
  const mustFind = (app: string, eurekaId: string): ServiceInstance => {
    const inst = find(app, eurekaId);
    if (inst === undefined) throw unknown(app, eurekaId);
    return inst;
  };
  // Eureka clients hold no instance token, so this API may only change instances that came
  // through it: a natively registered (token-owned) instance is never touched from here.
  const mayChange = (app: string, eurekaId: string): void => {
    const inst = find(app, eurekaId);
    if (inst !== undefined && eurekaRecordOf(inst) === undefined) throw notOwner(app, eurekaId);
  };

  const serve = async (
    req: IncomingMessage,
    res: ServerResponse,
    kind: string,
    rest: string[],
    query: URLSearchParams,
  ): Promise<void> => {
    const method = req.method ?? 'GET';
    const only = (...allowed: string[]) => {
      if (!allowed.includes(method))
        throw new FleetgateError('ERR_FG_NOT_FOUND', `${method} is not allowed here; use ${allowed.join(', ')}`, {
          status: 405,
        });
    };
    if (kind === 'vips' || kind === 'instances') {
      only('GET');
      if (rest.length !== 1) throw new FleetgateError('ERR_FG_NOT_FOUND', `no Eureka resource at ${req.url}`);
      const key = rest[0]!;
      if (kind === 'vips') {
        const matches = live().filter((i) => vipsOf(i).includes(key));
        return sendJson(res, 200, applicationsJson(matches, reg.ttlMs, version, live()));
      }
      const inst = live().find((i) => (eurekaRecordOf(i)?.instanceId ?? i.instanceId) === key || i.instanceId === key);
      if (inst === undefined) throw new FleetgateError('ERR_FG_NOT_FOUND', `no instance ${key}`);
      return sendJson(res, 200, { instance: instanceToEureka(inst, reg.ttlMs) });
    }
    const [app, id, sub, ...extra] = rest;
    if (extra.length > 0) throw new FleetgateError('ERR_FG_NOT_FOUND', `no Eureka resource at ${req.url}`);
    if (app === undefined) {
      only('GET');
      return sendJson(res, 200, applicationsJson(live(), reg.ttlMs, version));
    }
    if (id === undefined && app === 'delta' && method === 'GET') {
      const items = deltas.recent((service, instanceId) => reg.get(service, instanceId));
      const actions = new Map(items.map((d) => [d.instance, d.action]));
      return sendJson(
        res,
        200,
        applicationsJson(
          items.map((d) => d.instance),
          reg.ttlMs,
          version,
          live(),
          actions,
        ),
      );
    }
    if (id === undefined) {
      only('GET', 'POST');
      if (method === 'POST') {
        const body = await readJsonBody(req, { maxBytes: o.maxBodyBytes });
        const input = parseEurekaRegistration(app, body);
        mayChange(app, input.metadata.eureka.instanceId);
        await reg.register(input);
        res.writeHead(204).end();
        return;
      }
      const service = serviceOfApp(app);
      const instances = live().filter((i) => i.service === service);
      if (instances.length === 0) throw new FleetgateError('ERR_FG_NOT_FOUND', `no application ${app}`);
      const doc = applicationsJson(instances, reg.ttlMs, version).applications.application[0]!;
      return sendJson(res, 200, { application: doc });
    }
    if (sub === undefined) {
      only('GET', 'PUT', 'DELETE');
      if (method === 'GET') return sendJson(res, 200, { instance: instanceToEureka(mustFind(app, id), reg.ttlMs) });
      mayChange(app, id);
      if (method === 'DELETE') {
        if (!(await reg.deregister(serviceOfApp(app), fleetgateInstanceId(id)))) throw unknown(app, id);
        return ok(res);
      }
      const status = query.get('status');
      const inst = await reg.heartbeat(serviceOfApp(app), fleetgateInstanceId(id)).catch((err: unknown) => {
        throw err instanceof FleetgateError && err.code === 'ERR_FG_UNKNOWN_INSTANCE' ? unknown(app, id) : err;
      });
      const wanted = status === null ? undefined : parseEurekaStatus(status);
      if (wanted !== undefined && statusFromEureka(wanted) !== inst.status)
        await reg.setStatus(inst.service, inst.instanceId, statusFromEureka(wanted));
      return ok(res);
    }
    const inst = mustFind(app, id);
    mayChange(app, id);
    if (sub === 'status') {
      only('PUT', 'DELETE');
      const value = method === 'DELETE' ? (query.get('value') ?? 'UP') : query.get('value');
      const status = parseEurekaStatus(value);
      if (status === undefined)
        throw new FleetgateError('ERR_FG_INVALID_BODY', 'value must be UP, DOWN, STARTING, OUT_OF_SERVICE or UNKNOWN', {
          details: [{ path: 'value', message: `got ${JSON.stringify(value)}` }],
        });
      await reg.setStatus(inst.service, inst.instanceId, statusFromEureka(status));
      return ok(res);
    }
    if (sub === 'metadata') {
      only('PUT');
      const rec = eurekaRecordOf(inst);
      const added = Object.fromEntries(query.entries());
      const metadata =
        rec === undefined
          ? { ...inst.metadata, ...added }
          : { ...inst.metadata, eureka: { ...rec, metadata: { ...rec.metadata, ...added } } };
      await reg.register({ ...inputOf(inst), metadata });
      return ok(res);
    }
    throw new FleetgateError('ERR_FG_NOT_FOUND', `no Eureka resource at ${req.url}`);
  };

  return { serve, close: () => void reg.off('change', onChange) };
}

function vipsOf(inst: ServiceInstance): string[] {
  const rec = eurekaRecordOf(inst);
  const vips = rec === undefined ? [inst.service] : [rec.vipAddress, rec.secureVipAddress];
  return vips.flatMap((v) => (v === undefined ? [] : v.split(',')));
}

/** The registration that reproduces `inst` (for a metadata change). */
function inputOf(inst: ServiceInstance): RegistrationInput {
  const out: RegistrationInput = {
    service: inst.service,
    instanceId: inst.instanceId,
    url: inst.url,
    routes: inst.routes,
    weight: inst.weight,
    metadata: inst.metadata,
    status: inst.status,
  };
  if (inst.healthEndpoint !== undefined) out.healthEndpoint = inst.healthEndpoint;
  if (inst.version !== undefined) out.version = inst.version;
  if (inst.zone !== undefined) out.zone = inst.zone;
  return out;
}

function ok(res: ServerResponse): void {
  res.writeHead(200, { 'content-length': '0' }).end();
}

function notOwner(app: string, id: string): FleetgateError {
  return new FleetgateError(
    'ERR_FG_NOT_OWNER',
    `${id} of ${app} was not registered through Eureka; it is not this API's to change`,
    {
      details: { app, instance_id: id },
    },
  );
}

function unknown(app: string, id: string): FleetgateError {
  return new FleetgateError('ERR_FG_UNKNOWN_INSTANCE', `no instance ${id} of ${app}; register again`, {
    details: { app, instance_id: id },
  });
}

function closedError(): FleetgateError {
  return new FleetgateError('ERR_FG_CLOSED', 'the Eureka API is closed');
}
