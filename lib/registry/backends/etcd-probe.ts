/**
 * The liveness probe of the etcd registry backend: a count-only range read (served by the raft
 * leader, so it also proves a quorum) on a client of its own whose calls carry a gRPC deadline.
 * etcd3 closes the channel of a call that missed its deadline, so the next probe dials afresh:
 * after a partition the command channel may sit in TCP retransmission backoff for seconds,
 * while a new handshake answers as soon as the link is back. lib/registry/store-liveness.ts
 * runs it.
 */
import type { Etcd3 } from 'etcd3';
import { createEtcdClient, prefixEnd } from './etcd-values.js';

/** Reads one key range, count only, with a deadline. */
export class EtcdProbe {
  readonly #client: Etcd3;
  readonly #owned: boolean;
  readonly #key: string;
  #inFlight = 0;

  /**
   * @param endpoints dial a probe client of its own (owned); without them `fallback` is probed.
   * @param fallback the backend's client, used when no endpoints are known (an injected client).
   * @param key the key prefix read (count only), e.g. the registry root.
   * @param timeoutMs the gRPC deadline of each probe.
   */
  constructor(endpoints: readonly string[] | undefined, fallback: Etcd3, key: string, timeoutMs: number) {
    this.#owned = endpoints !== undefined && endpoints.length > 0;
    this.#client = this.#owned ? createEtcdClient(endpoints!, { callDeadlineMs: timeoutMs }) : fallback;
    this.#key = key;
  }

  /** Resolves once etcd answered the read. */
  async ping(): Promise<void> {
    // An earlier probe still waiting may be stuck on a lost handshake: dial afresh (own client only).
    if (this.#owned && this.#inFlight > 0) redialEtcd(this.#client);
    this.#inFlight++;
    try {
      await this.#client.kv.range({ key: Buffer.from(this.#key), range_end: prefixEnd(this.#key), count_only: true });
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
