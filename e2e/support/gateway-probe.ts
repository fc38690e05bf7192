/**
 * What an e2e test asks a running gateway over HTTP: its registry listing, its `/health`, a
 * raw heartbeat, a proxied request, and a bounded load loop that records every outcome.
 * One undici Agent per probe, so closing it releases every socket.
 */
import { Agent, request } from 'undici';
import type { ExplainResult } from '../../lib/routing/explain.js';
import type { UpstreamReply } from './upstream-service.js';

/** One instance as `GET /internal/services` lists it (the fields tests read). */
export interface ListedInstance {
  service: string;
  instance_id: string;
  url: string;
  status: string;
  last_heartbeat: string;
  expires_at: string;
  epoch: number;
}

/** The `GET /health` body (the fields tests read). */
export interface HealthBody {
  status: 'healthy' | 'degraded' | 'unhealthy';
  registry: {
    type: string;
    connected: boolean;
    self_preservation: boolean;
    self_preservation_reason?: string;
    degraded_reason?: string;
  };
}

/** A plain answer: status, headers and the body as text. */
export interface RawAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** One request of a {@link LoadLoop}. */
export interface LoadSample {
  gateway: string;
  path: string;
  /** `Date.now()` when sent and when answered (or failed). */
  start: number;
  end: number;
  /** HTTP status, or 0 for a network failure or timeout. */
  status: number;
  /** Which upstream answered, for a 200. */
  upstream?: string;
  /** Error code from a JSON error body, or the network error's message. */
  error?: string;
}

/** A running load loop. */
export interface LoadLoop {
  readonly samples: readonly LoadSample[];
  /** Stops sending and resolves once every worker's last request is done. */
  stop(): Promise<void>;
}

/** Talks to gateways. */
export class GatewayProbe implements AsyncDisposable {
  readonly #agent = new Agent({ connections: 16, keepAliveTimeout: 10_000 });

  /** Any request; network failures reject. */
  async raw(base: string, method: string, path: string, timeoutMs = 5000): Promise<RawAnswer> {
    const res = await request(`${base}${path}`, {
      method: method as 'GET',
      dispatcher: this.#agent,
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
      signal: AbortSignal.timeout(timeoutMs),
    });
    return { status: res.statusCode, headers: res.headers, body: await res.body.text() };
  }

  /** Every instance the gateway lists, keyed by instance id. */
  async instances(base: string): Promise<Map<string, ListedInstance>> {
    const answer = await this.raw(base, 'GET', '/internal/services', 3000);
    if (answer.status !== 200) throw new Error(`GET ${base}/internal/services: ${answer.status} ${answer.body}`);
    const body = JSON.parse(answer.body) as {
      services: Record<string, { instances: Omit<ListedInstance, 'service'>[] }>;
    };
    const out = new Map<string, ListedInstance>();
    for (const [service, { instances }] of Object.entries(body.services)) {
      for (const i of instances) out.set(i.instance_id, { ...i, service });
    }
    return out;
  }

  /** The gateway's `/health` body. */
  async health(base: string): Promise<HealthBody> {
    const answer = await this.raw(base, 'GET', '/health', 3000);
    return JSON.parse(answer.body) as HealthBody;
  }

  /** `GET /_fleetgate/explain` for a GET of `path`: how the gateway would route it. */
  async explain(base: string, path: string): Promise<ExplainResult> {
    const answer = await this.raw(base, 'GET', `/_fleetgate/explain?method=GET&path=${encodeURIComponent(path)}`, 3000);
    if (answer.status !== 200) throw new Error(`explain ${path} via ${base}: ${answer.status} ${answer.body}`);
    return JSON.parse(answer.body) as ExplainResult;
  }

  /** A proxied GET: the upstream's reply on a 200, else `undefined`. */
  async proxied(base: string, path: string, timeoutMs = 2000): Promise<UpstreamReply | undefined> {
    const answer = await this.raw(base, 'GET', path, timeoutMs);
    return answer.status === 200 ? (JSON.parse(answer.body) as UpstreamReply) : undefined;
  }

  /**
   * Starts `workers` loops per gateway, each sending GETs one after the other (round-robin over
   * `paths`, `pauseMs` apart) until stopped or `maxRequests` were sent in all.
   */
  load(gateways: readonly string[], paths: readonly string[], opts: LoadOptions = {}): LoadLoop {
    const samples: LoadSample[] = [];
    const workers = opts.workersPerGateway ?? 2;
    const pauseMs = opts.pauseMs ?? 5;
    const max = opts.maxRequests ?? 50_000;
    let stopped = false;
    let n = 0;
    const worker = async (gateway: string, offset: number): Promise<void> => {
      for (let i = offset; !stopped && n < max; i++) {
        n++;
        const path = paths[i % paths.length]!;
        const start = Date.now();
        const sample: LoadSample = { gateway, path, start, end: start, status: 0 };
        try {
          const answer = await this.raw(gateway, 'GET', path, opts.timeoutMs ?? 2000);
          sample.status = answer.status;
          if (answer.status === 200) sample.upstream = (JSON.parse(answer.body) as UpstreamReply).upstream;
          else sample.error = errorCodeOf(answer.body);
        } catch (err) {
          sample.error = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
        }
        sample.end = Date.now();
        samples.push(sample);
        await new Promise((resolve) => setTimeout(resolve, pauseMs));
      }
    };
    const running = gateways.flatMap((g) => Array.from({ length: workers }, (_, w) => worker(g, w)));
    return {
      samples,
      async stop() {
        stopped = true;
        await Promise.all(running);
      },
    };
  }

  close(): Promise<void> {
    return this.#agent.close();
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

/** Options of {@link GatewayProbe.load}. */
export interface LoadOptions {
  /** @default 2 */
  workersPerGateway?: number;
  /** Pause after each request, per worker. @default 5 */
  pauseMs?: number;
  /** Bound on each request. @default 2000 */
  timeoutMs?: number;
  /** Bound on the whole loop. @default 50000 */
  maxRequests?: number;
}

/** The `error.code` of a fleetgate JSON error body, else the body's start. */
export function errorCodeOf(body: string): string {
  try {
    const code = (JSON.parse(body) as { error?: { code?: string } }).error?.code;
    if (code !== undefined) return code;
  } catch {
    // Not JSON.
  }
  return body.slice(0, 80);
}
