/**
 * The liveness probe of the etcd registry backend: a count-only range read (served by the raft
 * leader, so it also proves a quorum) on a client of its own whose calls carry a gRPC deadline.
 * etcd3 closes the channel of a call that missed its deadline, so the next probe dials afresh:
 * after a partition the command channel may sit in TCP retransmission backoff for seconds,
 * while a new handshake answers as soon as the link is back. The probe's deadline is decided
 * after the event loop turned (lib/registry/store-deadline.ts), not by the gRPC deadline timer,
 * which fires before a stalled loop reads the answer already waiting in the socket; the gRPC
 * deadline is only a backstop. lib/registry/store-liveness.ts runs it.
 */
import type { Etcd3 } from 'etcd3';
import type { Clock } from '../../clock.js';
import { withDeadline } from '../store-deadline.js';
import { createEtcdClient, prefixEnd } from './etcd-values.js';

/** Reads one key range, count only, with a deadline. */
export class EtcdProbe {
  readonly #client: Etcd3;
  readonly #owned: boolean;
  readonly #key: string;
  readonly #timeoutMs: number;
  readonly #clock: Clock;
  #inFlight = 0;

  /**
   * @param endpoints dial a probe client of its own (owned); without them `fallback` is probed.
   * @param fallback the backend's client, used when no endpoints are known (an injected client).
   * @param key the key prefix read (count only), e.g. the registry root.
   * @param timeoutMs bound on each probe's answer.
   * @param clock the deadlines' time source.
   */
  constructor(endpoints: readonly string[] | undefined, fallback: Etcd3, key: string, timeoutMs: number, clock: Clock) {
    this.#owned = endpoints !== undefined && endpoints.length > 0;
    // The gRPC deadline only ends calls nobody waits for any more.
    this.#client = this.#owned ? createEtcdClient(endpoints!, { callDeadlineMs: 10 * timeoutMs }) : fallback;
    this.#key = key;
    this.#timeoutMs = timeoutMs;
    this.#clock = clock;
  }

  /** Resolves once etcd answered the read. */
  async ping(): Promise<void> {
    // An earlier probe still waiting may be stuck on a lost handshake: dial afresh (own client only).
    if (this.#owned && this.#inFlight > 0) redialEtcd(this.#client);
    this.#inFlight++;
    try {
      const range = () =>
        this.#client.kv.range({ key: Buffer.from(this.#key), range_end: prefixEnd(this.#key), count_only: true });
      await withDeadline(this.#clock, this.#timeoutMs, range, 'etcd range');
    } catch (err) {
      // Unanswered: the channel may be stuck behind a lost handshake; the next probe dials afresh.
      if (this.#owned) redialEtcd(this.#client);
      throw err;
    } finally {
      this.#inFlight--;
    }
  }

  /** Closes the probe's own client. Idempotent. */
  close(): void {
    if (this.#owned) this.#client.close();
  }
}

/**
 * Makes an etcd3 client dial afresh: every host's gRPC channels are dropped and recreated on the
 * next call; the watch stream breaks and etcd3 resumes it from the last revision it saw.
 * etcd3 has no public call for this, so it reaches the connection pool; a client without one
 * (another etcd3 version, a mock) is left alone.
 */
export function redialEtcd(client: Etcd3): void {
  const pool = (client as unknown as { pool?: { hosts?: { resetAllServices?: () => void }[] } }).pool;
  for (const host of pool?.hosts ?? []) host.resetAllServices?.();
}
