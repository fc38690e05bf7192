/**
 * A small, bounded load loop for drills: a few workers send idempotent GETs through the
 * gateways at a capped rate and record every outcome, so a drill can ask "did anything fail
 * after t?" or "who answered after t?".
 */
import { Agent, request } from 'undici';

/** One request's outcome. */
export interface Sample {
  /** When it was sent, ms since epoch. */
  at: number;
  /** When it finished. */
  done: number;
  gateway: string;
  path: string;
  /** HTTP status, 0 for a network error or timeout. */
  status: number;
  /** 2xx. */
  ok: boolean;
  /** A 500 the fake service produced on purpose (its error rate), not a fleet failure. */
  injected: boolean;
  /** Answered by the re-registration drill's tripwire on an old address. */
  tripwire: boolean;
  /** Who answered (from the fake service's echo). */
  instanceId?: string;
  port?: number;
  /** Error code or gateway error code. */
  error?: string;
  /** Connection-refused attempts retried before this outcome (with {@link LoadLoopOptions.retryRefused}). */
  refused?: number;
}

/** Options for {@link LoadLoop}. */
export interface LoadLoopOptions {
  gateways: string[];
  /** Paths to GET, used round-robin. */
  paths: string[];
  /** @default 4 */
  concurrency: number;
  /** Cap on requests per second over all workers. @default 100 */
  maxRps: number;
  /** Per-request timeout in ms. @default 3000 */
  timeoutMs: number;
  /** Hard stop after this long, whatever happens. @default 120000 */
  maxDurationMs: number;
  /**
   * Behave like a client that retries connection-refused (and only that): a refused attempt is
   * sent again to the next gateway in rotation for up to `maxMs`. `ready(gateway)` lets a drill
   * model a readiness-aware balancer: gateways it says are not ready get no request. @default undefined
   */
  retryRefused: { maxMs: number; ready?: (gateway: string) => boolean } | undefined;
}

const DEFAULTS = Object.freeze({
  concurrency: 4,
  maxRps: 100,
  timeoutMs: 3000,
  maxDurationMs: 120_000,
  retryRefused: undefined,
});
const MAX_SAMPLES = 200_000;

/**
 * @example
 * const load = new LoadLoop({ gateways: ['http://127.0.0.1:8080'], paths: ['/api/orders/x'] });
 * load.start(); ... ; await load.stop();
 * load.failures(since).length // 0
 */
export class LoadLoop {
  readonly #o: LoadLoopOptions;
  readonly #agent: Agent;
  readonly samples: Sample[] = [];
  #running = false;
  #workers: Promise<void>[] = [];
  #next = 0;
  #startedAt = 0;

  constructor(options: Partial<LoadLoopOptions> & Pick<LoadLoopOptions, 'gateways' | 'paths'>) {
    this.#o = {
      ...DEFAULTS,
      ...Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)),
    } as LoadLoopOptions;
    if (this.#o.gateways.length === 0 || this.#o.paths.length === 0)
      throw new TypeError('LoadLoop needs gateways and paths');
    this.#agent = new Agent({ keepAliveTimeout: 4000, connections: this.#o.concurrency * 2 });
  }

  /** Starts the workers. */
  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#startedAt = Date.now();
    const perWorkerGap = (1000 * this.#o.concurrency) / this.#o.maxRps;
    for (let w = 0; w < this.#o.concurrency; w++) this.#workers.push(this.#work(perWorkerGap));
  }

  /** Stops the workers and waits for requests in flight. */
  async stop(): Promise<void> {
    this.#running = false;
    await Promise.all(this.#workers);
    this.#workers = [];
    await this.#agent.close().catch(() => {});
  }

  /** Requests sent at or after `since` that failed for a fleet reason (not injected errors). */
  failures(since = 0, until = Number.POSITIVE_INFINITY): Sample[] {
    return this.samples.filter((s) => s.at >= since && s.at < until && !s.ok && !s.injected);
  }

  /** Requests sent in `[since, until)`. */
  between(since: number, until = Number.POSITIVE_INFINITY): Sample[] {
    return this.samples.filter((s) => s.at >= since && s.at < until);
  }

  /** A short "N requests, M failed (502×2, 503×1)" line for `[since, until)`. */
  describe(since = 0, until = Number.POSITIVE_INFINITY): string {
    const all = this.between(since, until);
    const failed = all.filter((s) => !s.ok && !s.injected);
    const kinds = new Map<string, number>();
    for (const f of failed) {
      const k = f.status === 0 ? (f.error ?? 'network error') : `${f.status}${f.error ? ` ${f.error}` : ''}`;
      kinds.set(k, (kinds.get(k) ?? 0) + 1);
    }
    const detail = [...kinds].map(([k, n]) => `${k} ×${n}`).join(', ');
    // Every request unmatched: the gateway answers the registration API but proxies nothing.
    const noProxy = all.length > 0 && all.every((s) => s.error === 'ERR_FG_NO_ROUTE');
    return (
      `${all.length} requests, ${failed.length} failed${detail ? ` (${detail})` : ''}` +
      (noProxy ? ' — no request matched a route: is the discovery proxy mounted in the gateway?' : '')
    );
  }

  async #work(gapMs: number): Promise<void> {
    while (this.#running && Date.now() - this.#startedAt < this.#o.maxDurationMs && this.samples.length < MAX_SAMPLES) {
      const i = this.#next++;
      const path = this.#o.paths[i % this.#o.paths.length] as string;
      const at = Date.now();
      this.samples.push(
        this.#o.retryRefused === undefined
          ? await this.#send(this.#o.gateways[i % this.#o.gateways.length] as string, path, at)
          : await this.#sendRetryingRefused(i, path, at, this.#o.retryRefused),
      );
      const wait = at + gapMs - Date.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    }
  }

  async #sendRetryingRefused(
    i: number,
    path: string,
    at: number,
    retry: NonNullable<LoadLoopOptions['retryRefused']>,
  ): Promise<Sample> {
    const n = this.#o.gateways.length;
    let refused = 0;
    for (let k = i; ; k++) {
      // A gateway the balancer holds back is skipped; with none ready, wait (bounded by maxMs).
      let gateway: string | undefined;
      for (let j = 0; j < n && gateway === undefined; j++) {
        const g = this.#o.gateways[(k + j) % n] as string;
        if (retry.ready?.(g) ?? true) gateway = g;
      }
      if (gateway !== undefined) {
        const sample = await this.#send(gateway, path, at);
        if (sample.error !== 'ECONNREFUSED') return refused === 0 ? sample : { ...sample, refused };
        refused++;
        if (Date.now() - at >= retry.maxMs) return { ...sample, refused };
      } else if (Date.now() - at >= retry.maxMs) {
        return {
          at,
          done: Date.now(),
          gateway: '-',
          path,
          status: 0,
          ok: false,
          injected: false,
          tripwire: false,
          error: 'NO_READY_GATEWAY',
          refused,
        };
      }
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  async #send(gateway: string, path: string, at: number): Promise<Sample> {
    try {
      const res = await request(gateway + path, {
        dispatcher: this.#agent,
        headersTimeout: this.#o.timeoutMs,
        bodyTimeout: this.#o.timeoutMs,
        signal: AbortSignal.timeout(this.#o.timeoutMs),
      });
      const text = await res.body.text();
      let body: Record<string, unknown> = {};
      try {
        body = JSON.parse(text) as Record<string, unknown>;
      } catch {
        // Not JSON: keep the status only.
      }
      const ok = res.statusCode >= 200 && res.statusCode < 300;
      const err = (body.error as { code?: string } | undefined)?.code;
      const sample: Sample = {
        at,
        done: Date.now(),
        gateway,
        path,
        status: res.statusCode,
        ok,
        injected: res.headers['x-fake-error'] === '1',
        tripwire: res.headers['x-tripwire'] === '1',
      };
      if (typeof body.instance_id === 'string') sample.instanceId = body.instance_id;
      if (typeof body.port === 'number') sample.port = body.port;
      if (typeof err === 'string') sample.error = err;
      return sample;
    } catch (e) {
      const code = (e as { code?: string }).code ?? (e as Error).name;
      return {
        at,
        done: Date.now(),
        gateway,
        path,
        status: 0,
        ok: false,
        injected: false,
        tripwire: false,
        error: code,
      };
    }
  }
}

/**
 * Concrete paths for route patterns, for GETs: `**` and `*` and `:name` become fixed segments.
 * @example drillPaths([{ method: 'GET', path: '/api/orders/**' }]) // ['/api/orders/drill']
 */
export function drillPaths(routes: ReadonlyArray<{ method: string; path: string }>): string[] {
  return routes
    .filter((r) => r.method === 'GET' || r.method === '*')
    .map((r) =>
      r.path
        .split('/')
        .map((seg) => (seg === '**' || seg === '*' ? 'drill' : seg.startsWith(':') ? 'x1' : seg))
        .join('/'),
    );
}
