/**
 * `consulApi()`: a subset of Consul's agent, catalog and health HTTP API (`/v1/…`) as a thin
 * translation onto the one registry, so unmodified Consul clients (the `consul` npm package,
 * Go's api package) register services, report TTL checks, discover with blocking queries and
 * deregister. No second store: services become registry instances (`metadata.origin:
 * "consul"`), reads list the registry, and `X-Consul-Index` follows the registry's changes.
 * Behind the registration API's allow-from and token guards (`X-Consul-Token` accepted); Consul
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
import type { ServiceInstance } from '../../registry/model.js';
import type { RegistryApi } from '../../registry/registry-api.js';
import { createAccessGuard } from '../access-guard.js';
import { type BoundState, bindRegistry, matchTarget, withBinding } from '../compat-registry.js';
import { type ConsulCheckStatus, ConsulChecks } from './consul-checks.js';
import { ConsulIndex } from './consul-index.js';
import { catalogEntry, consulServiceOf, healthEntry } from './consul-json.js';
import { consulRecordOf, parseConsulRegistration } from './consul-registration.js';

/** Options of {@link consulApi}. */
export interface ConsulApiOptions {
  /**
   * The registry to translate onto. @default the process-wide default registry, shared with a
   * zero-argument `registry()` and `discoveryProxy()` (lib/registry/default-registry.ts)
   */
  registry: RegistryApi | undefined;
  /** Caller CIDRs, as for the registration API. @default loopback */
  allowFrom: readonly string[];
  /** Proxies whose `X-Forwarded-For` is believed. @default false */
  trustProxy: TrustProxy;
  /** Token required as `X-Consul-Token` or Bearer. @default undefined (none) */
  token: string | undefined;
  /** Largest registration body, in bytes. @default 65536 */
  maxBodyBytes: number;
  /** @default realClock */
  clock: Clock;
  /** @default noopLogger */
  logger: Logger;
}

/** Defaults of {@link ConsulApiOptions}. Frozen. */
export const CONSUL_API_DEFAULTS: Readonly<ConsulApiOptions> = Object.freeze({
  registry: undefined,
  allowFrom: Object.freeze(['127.0.0.0/8', '::1/128', '::ffff:127.0.0.0/104']),
  trustProxy: false,
  token: undefined,
  maxBodyBytes: 64 * 1024,
  clock: realClock,
  logger: noopLogger,
});

/** The middleware returned by {@link consulApi}. */
export interface ConsulApiMiddleware extends AsyncDisposable {
  (req: IncomingMessage, res: ServerResponse, next?: Next): void;
  /** Resolves once the registry exists (created from the environment when none was given). */
  ready(): Promise<void>;
  /** Stops timers, releases waiting blocking queries and gives back its lease on the default registry. Idempotent. */
  close(): Promise<void>;
}

const PATH =
  /^\/v1\/(agent\/service\/register|agent\/service\/deregister|agent\/check\/(?:pass|warn|fail)|catalog\/services|catalog\/service|health\/service)(?:\/([^/]+))?\/?$/;
const CHECK_STATUS: Record<string, ConsulCheckStatus> = { pass: 'passing', warn: 'warning', fail: 'critical' };

/**
 * Creates the Consul API middleware.
 * @example
 * app.use(consulApi({ registry: reg }));
 * // new Consul({ host: 'gateway', port: 8080 }).agent.service.register({ name: 'web', port: 3000, check: { ttl: '10s' } })
 * @example
 * app.use(registry()); app.use(consulApi()); app.use(discoveryProxy()); // one default registry
 * @throws FleetgateError `ERR_FG_INVALID_CONFIG` with invalid guards.
 */
export function consulApi(options: Partial<ConsulApiOptions> = {}): ConsulApiMiddleware {
  const o = mergeDefined(CONSUL_API_DEFAULTS, options);
  const guard = createAccessGuard(o, 'Consul');
  const bound = bindRegistry(o.registry, (reg) => consulState(reg, o), closedError);

  const serve = async (
    req: IncomingMessage,
    res: ServerResponse,
    endpoint: string,
    arg: string | undefined,
    query: URLSearchParams,
  ): Promise<void> => {
    // Guarded before the registry is touched: a refused caller never creates the default one.
    guard(req);
    const state = await bound.get();
    await state.serve(req, res, endpoint, arg, query);
  };

  const handler = (req: IncomingMessage, res: ServerResponse, next?: Next): void => {
    const url = req.url ?? '/';
    const target = matchTarget(url, PATH);
    if (target === undefined) {
      if (next !== undefined) next();
      else sendError(res, new FleetgateError('ERR_FG_NOT_FOUND', `no Consul endpoint at ${url}`));
      return;
    }
    const { match: m, query } = target;
    let arg: string | undefined;
    try {
      arg = m[2] === undefined ? undefined : decodeURIComponent(m[2]);
    } catch {
      sendError(res, new FleetgateError('ERR_FG_NOT_FOUND', `no Consul endpoint at ${url}`));
      return;
    }
    serve(req, res, m[1]!, arg, query).catch((err: unknown) =>
      sendError(res, err, {
        logger: o.logger,
        headers: { 'x-consul-index': String(bound.peek()?.index.value ?? 1) },
      }),
    );
  };
  return withBinding(handler, bound);
}

/** The Consul API's state on one registry: its index, its TTL checks and the request handling. */
interface ConsulState extends BoundState {
  readonly index: ConsulIndex;
  serve(
    req: IncomingMessage,
    res: ServerResponse,
    endpoint: string,
    arg: string | undefined,
    query: URLSearchParams,
  ): Promise<void>;
}

function consulState(reg: RegistryApi, o: ConsulApiOptions): ConsulState {
  const index = new ConsulIndex(reg, o.clock);
  const checks = new ConsulChecks(reg, o.clock, o.logger);

  const byConsulId = (id: string): ServiceInstance | undefined =>
    reg.instances().find((i) => consulRecordOf(i)?.id === id);
  const ofService = (name: string): ServiceInstance[] =>
    reg.instances().filter((i) => i.service === name.toLowerCase());

  const serve = async (
    req: IncomingMessage,
    res: ServerResponse,
    endpoint: string,
    arg: string | undefined,
    query: URLSearchParams,
  ): Promise<void> => {
    const method = req.method ?? 'GET';
    const reply = (status: number, body: unknown) =>
      sendJson(res, status, body, {
        'x-consul-index': String(index.value),
        'x-consul-knownleader': 'true',
        'x-consul-lastcontact': '0',
      });
    const only = (m: string) => {
      if (method !== m)
        throw new FleetgateError('ERR_FG_NOT_FOUND', `${method} is not allowed here; use ${m}`, { status: 405 });
    };
    const need = (what: string): string => {
      if (arg === undefined || arg === '') throw new FleetgateError('ERR_FG_NOT_FOUND', `missing ${what}`);
      return arg;
    };
    switch (endpoint) {
      case 'agent/service/register': {
        only('PUT');
        const { input, record } = parseConsulRegistration(await readJsonBody(req, { maxBytes: o.maxBodyBytes }));
        // Consul clients hold no instance token, so this API may only change instances that came
        // through it: a natively registered (token-owned) instance is never touched from here.
        const existing = reg.get(input.service, input.instanceId ?? '');
        if (existing !== undefined && consulRecordOf(existing) === undefined)
          throw new FleetgateError('ERR_FG_NOT_OWNER', `${record.id} was not registered through Consul`, {
            details: { service: input.service, instance_id: input.instanceId },
          });
        const inst = await reg.register(input);
        checks.track(record, inst.service, inst.instanceId);
        return reply(200, null);
      }
      case 'agent/service/deregister': {
        only('PUT');
        const id = need('service id');
        const inst = byConsulId(id);
        if (inst === undefined) throw new FleetgateError('ERR_FG_NOT_FOUND', `Unknown service ID "${id}"`);
        checks.untrack(id);
        await reg.deregister(inst.service, inst.instanceId);
        return reply(200, null);
      }
      case 'catalog/services': {
        only('GET');
        await index.wait(query, closedOf(res));
        const out: Record<string, string[]> = {};
        for (const i of reg.instances()) {
          const svc = consulServiceOf(i);
          out[svc.name] = [...new Set([...(out[svc.name] ?? []), ...svc.tags])];
        }
        return reply(200, out);
      }
      case 'catalog/service': {
        only('GET');
        const name = need('service name');
        await index.wait(query, closedOf(res));
        return reply(
          200,
          ofService(name).map((i) => catalogEntry(i, index.value)),
        );
      }
      case 'health/service': {
        only('GET');
        const name = need('service name');
        await index.wait(query, closedOf(res));
        const passingOnly = query.get('passing') !== null && query.get('passing') !== 'false';
        const entries = ofService(name)
          .map((i) => healthEntry(i, checks.checksOf(consulServiceOf(i).id), index.value))
          .filter((e) => !passingOnly || e.Checks.every((c) => c.Status === 'passing'));
        return reply(200, entries);
      }
      default: {
        only('PUT');
        const checkId = need('check id');
        const status = CHECK_STATUS[endpoint.slice('agent/check/'.length)]!;
        if (!(await checks.update(checkId, status, query.get('note') ?? '')))
          throw new FleetgateError('ERR_FG_NOT_FOUND', `Unknown check ID "${checkId}"`);
        return reply(200, null);
      }
    }
  };

  return {
    index,
    serve,
    close: () => {
      checks.close();
      index.close();
    },
  };
}

function closedError(): FleetgateError {
  return new FleetgateError('ERR_FG_CLOSED', 'the Consul API is closed');
}

/** Resolves when the client goes away, so a blocking query stops waiting for nobody. */
function closedOf(res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    res.once('close', () => resolve());
  });
}
