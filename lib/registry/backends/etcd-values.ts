/**
 * Keys, values and client settings of the etcd registry backend.
 *
 * Key: `<root>services/<service>/<instanceId>` (root `/fleetgate/`), attached to a lease of
 * the instance's TTL. Value: an {@link EtcdEnvelope}: the instance, the lease it is attached to
 * (so any gateway can renew or revoke it, not only the one that registered it), and the kind of
 * change that wrote it, so a watcher can name the event without comparing with older values.
 */
import { ExponentialBackoff, handleWhen, noop, retry } from 'cockatiel';
import { Etcd3, type IKeyValue, type IOptions, isRecoverableError } from 'etcd3';
import type { RegistryEvent, ServiceInstance } from '../model.js';
import type { OwnerRecord } from './owner-check.js';

/** The stored value. */
export interface EtcdEnvelope {
  /**
   * What wrote it. `deregister` is a tombstone written just before the lease is revoked: the
   * revocation's DELETE then carries it as its previous value, which tells watchers the delete
   * was a deregistration and not a lease expiry.
   */
  event: 'register' | 'heartbeat' | 'status' | 'deregister';
  /** The lease id (decimal string) the key is attached to. */
  lease: string;
  instance: ServiceInstance;
  /** The token hash and source of the registration that owns the instance; absent when unowned. */
  owner?: OwnerRecord;
}

/** Parses a stored value; `undefined` for anything else under the prefix. */
export function decodeEnvelope(value: Buffer | undefined): EtcdEnvelope | undefined {
  if (value === undefined || value.length === 0) return undefined;
  try {
    const env = JSON.parse(value.toString('utf8')) as EtcdEnvelope;
    if (typeof env?.instance?.service !== 'string' || typeof env.instance.instanceId !== 'string') return undefined;
    return env;
  } catch {
    return undefined;
  }
}

/** Serialises an envelope. */
export function encodeEnvelope(env: EtcdEnvelope): Buffer {
  return Buffer.from(JSON.stringify(env));
}

/** The key layout under one root. */
export class EtcdKeys {
  /** Prefix of every instance key. */
  readonly services: string;

  /** Prefix of the route-claim keys: `<root>claims/<service>` (lib/registry/backends/store-route-claims.ts). */
  readonly claims: string;
  /** The key every route claim rewrites in the same transaction, so concurrent claims serialise. */
  readonly claimsVersion: string;

  /** @param root e.g. `/fleetgate/` (a trailing slash is added when missing). */
  constructor(root: string) {
    const base = root.endsWith('/') ? root : `${root}/`;
    this.services = `${base}services/`;
    this.claims = `${base}claims/`;
    this.claimsVersion = `${base}claims-version`;
  }

  /** Prefix of one service's keys. A service name with `/` shares a prefix with others: filter by value. */
  service(service: string): string {
    return `${this.services}${service}/`;
  }

  instance(service: string, instanceId: string): string {
    return `${this.service(service)}${instanceId}`;
  }

  /** Best effort `{ service, instanceId }` from a key, for a delete without its previous value. */
  parse(key: string): { service: string; instanceId: string } | undefined {
    if (!key.startsWith(this.services)) return undefined;
    const rest = key.slice(this.services.length);
    const cut = rest.lastIndexOf('/');
    if (cut <= 0) return undefined;
    return { service: rest.slice(0, cut), instanceId: rest.slice(cut + 1) };
  }
}

/** The `range_end` that makes a range request cover every key starting with `prefix`. */
export function prefixEnd(prefix: string): Buffer {
  const end = Buffer.from(prefix);
  for (let i = end.length - 1; i >= 0; i--) {
    if (end[i]! < 0xff) {
      end[i]! += 1;
      return end.subarray(0, i + 1);
    }
  }
  return Buffer.from([0]);
}

/** Lease TTL in whole seconds for a TTL in ms: rounded up, at least 1. */
export function leaseSeconds(ttlMs: number): number {
  return Math.max(1, Math.ceil(ttlMs / 1000));
}

/** The event a watched PUT stands for (`undefined` for a tombstone). */
export function eventOfPut(env: EtcdEnvelope): RegistryEvent | undefined {
  if (env.event === 'deregister') return undefined;
  return {
    type: env.event,
    service: env.instance.service,
    instanceId: env.instance.instanceId,
    instance: env.instance,
  };
}

/** The event a watched DELETE stands for: a tombstone's is a deregistration, any other an expiry. */
export function eventOfDelete(
  keys: EtcdKeys,
  kv: IKeyValue,
  previous: IKeyValue | undefined,
): RegistryEvent | undefined {
  const env = decodeEnvelope(previous?.value);
  if (env !== undefined) {
    const type = env.event === 'deregister' ? 'deregister' : 'expire';
    return { type, service: env.instance.service, instanceId: env.instance.instanceId, instance: env.instance };
  }
  const ids = keys.parse(kv.key.toString('utf8'));
  return ids === undefined ? undefined : { type: 'expire', ...ids };
}

type WatchBackoff = NonNullable<NonNullable<IOptions['faultHandling']>['watchBackoff']>;

/** Options for {@link createEtcdClient}. */
export interface EtcdClientOptions {
  /**
   * gRPC deadline of each unary call, a safety net so no call lingers. Keep it well above normal
   * latency: etcd3 treats a deadline miss as a broken connection and closes the channel, failing
   * every call in flight on it. @default 10000
   */
  callDeadlineMs?: number;
}

/**
 * An etcd3 client for a registry: no circuit breaker holding calls back after etcd returns,
 * reconnects (watches included) within about a second, a deadline on every unary call.
 * @example const client = createEtcdClient(['127.0.0.1:2379']);
 */
export function createEtcdClient(endpoints: readonly string[], options: EtcdClientOptions = {}): Etcd3 {
  if (endpoints.length === 0) throw new TypeError('at least one etcd endpoint is required');
  const deadlineMs = options.callDeadlineMs ?? 10_000;
  return new Etcd3({
    hosts: endpoints.map((e) => (e.includes('://') ? e : `http://${e}`)),
    dialTimeout: 2000,
    defaultCallOptions: (ctx) => (ctx.isStream ? {} : { deadline: Date.now() + deadlineMs }),
    grpcOptions: {
      'grpc.initial_reconnect_backoff_ms': 100,
      'grpc.max_reconnect_backoff_ms': 1000,
      // Detects a dead peer under an open watch (etcd allows pings every 5 s by default).
      'grpc.keepalive_time_ms': 10_000,
      'grpc.keepalive_timeout_ms': 5000,
    },
    faultHandling: {
      host: () => noop,
      // With several endpoints, a failed call moves to the next one; with one, it fails at once.
      global:
        endpoints.length > 1 ? retry(handleWhen(isRecoverableError), { maxAttempts: endpoints.length - 1 }) : noop,
      // etcd3 calls `.next()` on it first, i.e. it wants a backoff factory; its typing says IBackoff.
      watchBackoff: new ExponentialBackoff({ initialDelay: 100, maxDelay: 1000 }) as unknown as WatchBackoff,
    },
  });
}
