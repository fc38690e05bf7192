/**
 * Per-service request statistics for the dashboard, sampled in-process: each service keeps a ring
 * of per-second buckets (requests, 5xx answers, a latency histogram), fed by the proxy's
 * completion hook (`recordProxyRequest`, the same call `/metrics` counts). Memory is bounded: at
 * most `maxServices` services and `seconds` buckets each (about 10 KB per service at the defaults).
 */
import { type Clock, realClock } from '../clock.js';
import { mergeDefined } from '../core/options-merge.js';
import type { ProxyRequestRecord } from '../proxy/proxy-metrics-sink.js';
import { bucketOf, LATENCY_BUCKETS, quantileOf } from './latency-histogram.js';

/** Options of {@link RequestStats}. */
export interface RequestStatsOptions {
  /** Seconds of history kept per service. @default 60 */
  seconds: number;
  /** Services tracked; requests of further services are counted under none (the first ones seen win). @default 200 */
  maxServices: number;
  /** @default realClock */
  clock: Clock;
}

/** Defaults of {@link RequestStatsOptions}. Frozen. */
export const REQUEST_STATS_DEFAULTS: Readonly<RequestStatsOptions> = Object.freeze({
  seconds: 60,
  maxServices: 200,
  clock: realClock,
});

/** One service's last seconds, oldest first; one entry per whole second, the running second excluded. */
export interface ServiceSeries {
  /** Requests per second. */
  rps: number[];
  /** Share of answers that were 5xx (0–1); 0 for a second without requests. */
  errorRate: number[];
  /** Median request duration in ms (bucket upper bound); `null` for a second without timed requests. */
  p50: Array<number | null>;
  /** 99th percentile request duration in ms; `null` as for p50. */
  p99: Array<number | null>;
}

/** The ring of one service. Slot `s % seconds` holds second `s` when `second[slot] === s`. */
class ServiceRing {
  readonly second: Float64Array;
  readonly requests: Uint32Array;
  readonly errors: Uint32Array;
  readonly latency: Uint32Array;

  constructor(seconds: number) {
    this.second = new Float64Array(seconds).fill(-1);
    this.requests = new Uint32Array(seconds);
    this.errors = new Uint32Array(seconds);
    this.latency = new Uint32Array(seconds * LATENCY_BUCKETS);
  }

  /** The slot of second `s`, cleared first when it held an older second. */
  slot(s: number): number {
    const i = s % this.second.length;
    if (this.second[i] !== s) {
      this.second[i] = s;
      this.requests[i] = 0;
      this.errors[i] = 0;
      this.latency.fill(0, i * LATENCY_BUCKETS, (i + 1) * LATENCY_BUCKETS);
    }
    return i;
  }
}

/**
 * The per-service request rings. `record` is the proxy's metrics-sink call, so the gateway hands
 * it the same records `/metrics` counts.
 * @example
 * const stats = new RequestStats({ clock });
 * stats.record({ service: 'orders', route: '/api/orders/**', status: 200, durationMs: 3.2 });
 * stats.series('orders').rps; // [0, 0, …, 1] once the second is over
 */
export class RequestStats {
  readonly #o: RequestStatsOptions;
  readonly #rings = new Map<string, ServiceRing>();

  constructor(options: Partial<RequestStatsOptions> = {}) {
    this.#o = mergeDefined(REQUEST_STATS_DEFAULTS, options);
    if (!Number.isInteger(this.#o.seconds) || this.#o.seconds < 2)
      throw new RangeError('seconds must be an integer ≥ 2');
  }

  /** Counts one finished (or refused) request; requests that matched no service (`'-'`) are not counted. */
  record(r: ProxyRequestRecord): void {
    if (r.service === '-') return;
    let ring = this.#rings.get(r.service);
    if (ring === undefined) {
      if (this.#rings.size >= this.#o.maxServices) return;
      ring = new ServiceRing(this.#o.seconds);
      this.#rings.set(r.service, ring);
    }
    const i = ring.slot(Math.floor(this.#o.clock.now() / 1000));
    ring.requests[i]!++;
    if (r.status >= 500) ring.errors[i]!++;
    if (r.durationMs !== undefined) ring.latency[i * LATENCY_BUCKETS + bucketOf(r.durationMs)]!++;
  }

  /** Services with a ring. */
  services(): string[] {
    return [...this.#rings.keys()];
  }

  /** Stops tracking `service` (it left the registry); its memory is freed. */
  forget(service: string): void {
    this.#rings.delete(service);
  }

  /** The last `seconds − 1` whole seconds of `service`, oldest first (zeros when it has no ring). */
  series(service: string): ServiceSeries {
    const n = this.#o.seconds - 1;
    const out: ServiceSeries = { rps: [], errorRate: [], p50: [], p99: [] };
    const ring = this.#rings.get(service);
    const current = Math.floor(this.#o.clock.now() / 1000);
    for (let s = current - n; s < current; s++) {
      const i = s % this.#o.seconds;
      if (ring === undefined || ring.second[i] !== s || ring.requests[i] === 0) {
        out.rps.push(0);
        out.errorRate.push(0);
        out.p50.push(null);
        out.p99.push(null);
        continue;
      }
      const requests = ring.requests[i]!;
      const latency = ring.latency.subarray(i * LATENCY_BUCKETS, (i + 1) * LATENCY_BUCKETS);
      out.rps.push(requests);
      out.errorRate.push(ring.errors[i]! / requests);
      out.p50.push(quantileOf(latency, 0.5) ?? null);
      out.p99.push(quantileOf(latency, 0.99) ?? null);
    }
    return out;
  }
}
