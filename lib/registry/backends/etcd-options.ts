/**
 * Options of the etcd registry backend.
 */
import type { Etcd3 } from 'etcd3';
import { type Clock, realClock } from '../../clock.js';
import { type Logger, noopLogger } from '../../logger.js';

/** Options for {@link EtcdBackend}. Give `client`, or `endpoints` to have one built. */
export interface EtcdBackendOptions {
  /** An etcd3 client. Not closed by the backend unless `ownsClient`. */
  client: Etcd3 | undefined;
  /** `host:port` endpoints to build a client for when no `client` is given (owned). */
  endpoints: readonly string[] | undefined;
  /** Close `client` on close(). @default false, true when built from `endpoints` */
  ownsClient: boolean;
  /** Root of every key. @default '/fleetgate/' */
  root: string;
  /** Time source for `registeredAt`/`expiresAt`. @default realClock */
  clock: Clock;
  /**
   * Bound on each whole operation: past it the caller gets `ERR_FG_STORE_UNAVAILABLE`. A stopped
   * etcd refuses connections and fails calls at once; this bounds a hung or partitioned one.
   * @default 5000
   */
  operationTimeoutMs: number;
  /** Bound on each liveness probe (a count-only range read on a client of its own; etcd-probe.ts). @default 450 */
  probeTimeoutMs: number;
  /** How often the records this gateway wrote are checked for expiry and deleted (etcd-expiry-sweep.ts). @default 1000 */
  sweepIntervalMs: number;
  /** Keys per range read of a listing (~600 bytes each; a reply must stay under gRPC's 4 MB). @default 1000 */
  listPageSize: number;
  /** CAS attempts before an operation gives up under contention. @default 8 */
  maxAttempts: number;
  /**
   * Heartbeats arriving within this many ms of each other renew in one read and one write
   * transaction (etcd-batcher.ts), at the price of up to this much added latency on a heartbeat's
   * answer (lease renewals on a 30 s interval); 0 batches only what one event-loop turn renews
   * (lib/registry/backends/heartbeat-window.ts). @default 20
   */
  heartbeatBatchMs: number;
  /** @default noopLogger */
  logger: Logger;
}

/** Defaults for {@link EtcdBackendOptions}. Frozen. */
export const ETCD_BACKEND_DEFAULTS: Readonly<EtcdBackendOptions> = Object.freeze({
  client: undefined,
  endpoints: undefined,
  ownsClient: false,
  root: '/fleetgate/',
  clock: realClock,
  operationTimeoutMs: 5000,
  probeTimeoutMs: 450,
  sweepIntervalMs: 1000,
  listPageSize: 1000,
  maxAttempts: 8,
  heartbeatBatchMs: 20,
  logger: noopLogger,
});
