/**
 * A herd of instances simulated cheaply from one process: raw registration-API calls (no client
 * object, no timer per instance). Each instance heartbeats every interval ± 10 % jitter; a 404
 * makes it register again; a network error retries with capped exponential backoff and full
 * jitter, as `registerService()` does. One scheduler tick every 20 ms, a bounded number of
 * requests in flight.
 */
import { Pool } from 'undici';

/** Options of {@link HerdSimulator}. */
export interface HerdOptions {
  gateway: string;
  service: string;
  size: number;
  /** Where every instance "lives" (one server answers for all). */
  url: string;
  /** Heartbeat interval in ms (TTL / 3). */
  intervalMs: number;
  /** @default 32 */
  maxInFlight?: number;
}

interface Member {
  id: string;
  token: string | undefined;
  registered: boolean;
  dueAt: number;
  failures: number;
  busy: boolean;
  /** When it last got a 2xx (heartbeat or registration). */
  okAt: number;
  /** Registrations answered 2xx. */
  registrations: number;
  /** When its latest registration was answered 2xx. */
  registeredAt: number;
}

/** The herd. */
export class HerdSimulator {
  readonly #o: Required<HerdOptions>;
  readonly #pool: Pool;
  readonly members: Member[] = [];
  #timer: NodeJS.Timeout | undefined;
  #inFlight = 0;
  /** Answers by call and status (`register 200`, `heartbeat 404`, `heartbeat error`): what the herd met. */
  readonly answers = new Map<string, number>();

  constructor(options: HerdOptions) {
    this.#o = { maxInFlight: 32, ...options };
    this.#pool = new Pool(this.#o.gateway, { connections: this.#o.maxInFlight });
    const pad = String(this.#o.size).length;
    for (let i = 1; i <= this.#o.size; i++) {
      this.members.push({
        id: `${this.#o.service}-${String(i).padStart(pad, '0')}`,
        token: undefined,
        registered: false,
        dueAt: 0,
        failures: 0,
        busy: false,
        okAt: 0,
        registrations: 0,
        registeredAt: 0,
      });
    }
  }

  /** Starts registering and heartbeating. */
  start(): void {
    this.#timer = setInterval(() => this.#tick(), 20);
  }

  /** Stops and deregisters every member (best effort, bounded). */
  async stop(): Promise<void> {
    clearInterval(this.#timer);
    const queue = this.members.filter((m) => m.registered);
    const worker = async (): Promise<void> => {
      for (let m = queue.pop(); m !== undefined; m = queue.pop()) {
        await this.#call('DELETE', `/internal/services/${this.#o.service}/instances/${m.id}`, m).catch(() => {});
      }
    };
    await Promise.race([Promise.all(Array.from({ length: 16 }, worker)), new Promise((r) => setTimeout(r, 10_000))]);
    await this.#pool.close().catch(() => {});
  }

  /** Members whose last 2xx came at or after `since`. */
  okSince(since: number): number {
    return this.members.filter((m) => m.okAt >= since).length;
  }

  #tick(): void {
    const now = Date.now();
    for (const m of this.members) {
      if (this.#inFlight >= this.#o.maxInFlight) return;
      if (m.busy || m.dueAt > now) continue;
      m.busy = true;
      this.#inFlight++;
      void this.#step(m).finally(() => {
        m.busy = false;
        this.#inFlight--;
      });
    }
  }

  async #step(m: Member): Promise<void> {
    const interval = this.#o.intervalMs;
    const jittered = (): number => interval * (0.9 + Math.random() * 0.2);
    try {
      if (!m.registered) {
        const res = await this.#call('POST', '/internal/register-service', m, {
          service: this.#o.service,
          instance_id: m.id,
          url: this.#o.url,
          // No health endpoint: a thousand instances probed every second by each gateway would
          // measure the health checker, not the herd. Liveness comes from heartbeats alone.
          routes: [{ method: 'GET', path: `/${this.#o.service}/**` }],
        });
        this.#tally('register', res.status);
        if (res.status >= 200 && res.status < 300) {
          const body = res.body as { instance_token?: string };
          m.token = body.instance_token ?? m.token;
          m.registered = true;
          m.registrations++;
          m.okAt = Date.now();
          m.registeredAt = m.okAt;
          m.failures = 0;
          m.dueAt = Date.now() + jittered();
          return;
        }
        throw new HttpAnswer(res.status);
      }
      const res = await this.#call('PUT', `/internal/services/${this.#o.service}/instances/${m.id}/heartbeat`, m);
      this.#tally('heartbeat', res.status);
      if (res.status === 404) {
        // Unknown instance: register again at once (this is the herd).
        m.registered = false;
        m.dueAt = 0;
        return;
      }
      if (res.status >= 200 && res.status < 300) {
        m.okAt = Date.now();
        m.failures = 0;
        m.dueAt = Date.now() + jittered();
        return;
      }
      throw new HttpAnswer(res.status);
    } catch (err) {
      if (!(err instanceof HttpAnswer)) this.#tally(m.registered ? 'heartbeat' : 'register', 'error');
      m.failures++;
      // Capped exponential backoff with full jitter: 100 ms, 200 ms, ... up to one interval.
      m.dueAt = Date.now() + Math.random() * Math.min(interval, 100 * 2 ** Math.min(m.failures, 10));
    }
  }

  #tally(call: 'register' | 'heartbeat', status: number | 'error'): void {
    const key = `${call} ${status}`;
    this.answers.set(key, (this.answers.get(key) ?? 0) + 1);
  }

  /** The answers tallied since the last call, as `register 200 ×300, heartbeat 404 ×300`, and a fresh tally. */
  takeAnswers(): string {
    const text = [...this.answers]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([k, n]) => `${k} ×${n}`)
      .join(', ');
    this.answers.clear();
    return text === '' ? 'none' : text;
  }

  async #call(
    method: 'POST' | 'PUT' | 'DELETE',
    path: string,
    m: Member,
    body?: unknown,
  ): Promise<{ status: number; body: unknown }> {
    const res = await this.#pool.request({
      method,
      path,
      headers: {
        'content-type': 'application/json',
        ...(m.token === undefined ? {} : { 'x-instance-token': m.token }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      headersTimeout: 3000,
      bodyTimeout: 3000,
    });
    const text = await res.body.text();
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = undefined;
    }
    return { status: res.statusCode, body: parsed };
  }
}

/** A non-2xx answer (already tallied), as opposed to a network failure. */
class HttpAnswer extends Error {
  constructor(readonly status: number) {
    super(`answered ${status}`);
  }
}
