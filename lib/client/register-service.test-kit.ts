/**
 * Shared pieces of the register-service.*.test.ts files: a fake gateway registration API on a real
 * loopback server, a polling `until`, and `register()`/`gateway()` factories.
 *
 * Importing this module registers a root-level `after()` hook that closes every handle made by
 * `register()` and stops every gateway made by `gateway()`, so test files need no cleanup of their own.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after } from 'node:test';
import type { Clock } from '../clock.js';
import { seededRandom } from './backoff.js';
import { registerService, type ServiceRegistration } from './register-service.js';

/** What the fake gateway saw. */
export interface Seen {
  method: string;
  path: string;
  body: Record<string, unknown> | undefined;
  authorization: string | undefined;
  /** The X-Instance-Token header sent, if any. */
  instanceToken: string | undefined;
}

/**
 * Lets a test answer a request itself: return a response, or `undefined` to fall through to the
 * fake's normal handling.
 */
export type Override = (req: Seen) => { status: number; body?: unknown; headers?: Record<string, string> } | undefined;

/**
 * A stand-in for the gateway's registration API: the three endpoints, an in-memory map, and a
 * hook to answer differently. The real gateway is exercised by e2e/client-reregister.test.ts.
 */
export class FakeGateway {
  /** Every request received, in order. */
  readonly seen: Seen[] = [];
  /** Registered instances by id; clear it to simulate a gateway restart with an in-memory store. */
  readonly instances = new Map<string, { service: string; epoch: number; body: Record<string, unknown> }>();
  /** When set, consulted first for every request. */
  override: Override | undefined;
  /** `ttl_ms` in registration answers. */
  ttlMs = 3000;
  /** `heartbeat_interval_ms` in registration answers; `undefined` leaves the field out. */
  heartbeatIntervalMs: number | undefined = 1000;
  #server: Server | undefined;
  /** The port listened on, once started. */
  port = 0;

  /** Listens on 127.0.0.1:`port` (0: a free port). */
  async start(port = 0): Promise<this> {
    const server = createServer((req, res) => void this.#handle(req, res));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve());
    });
    this.#server = server;
    this.port = (server.address() as AddressInfo).port;
    return this;
  }

  /** The base URL, `http://127.0.0.1:<port>`. */
  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** How many `method` requests were seen whose path ends with `pathEnd`. */
  count(method: string, pathEnd = ''): number {
    return this.seen.filter((s) => s.method === method && s.path.endsWith(pathEnd)).length;
  }

  /** Stops listening and drops open connections; a no-op when not started. */
  async stop(): Promise<void> {
    const server = this.#server;
    this.#server = undefined;
    if (server === undefined) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let raw = '';
    for await (const chunk of req) raw += chunk;
    const seen: Seen = {
      method: req.method ?? '',
      path: req.url ?? '',
      body: raw === '' ? undefined : JSON.parse(raw),
      authorization: req.headers.authorization,
      instanceToken: req.headers['x-instance-token'] as string | undefined,
    };
    this.seen.push(seen);
    const send = (status: number, body: unknown, headers: Record<string, string> = {}): void => {
      res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(body));
    };
    const forced = this.override?.(seen);
    if (forced !== undefined) return send(forced.status, forced.body ?? {}, forced.headers);
    const unknown = (): void => send(404, { error: { code: 'ERR_FG_UNKNOWN_INSTANCE', message: 'unknown instance' } });
    if (seen.method === 'POST' && seen.path === '/internal/register-service') {
      const b = seen.body ?? {};
      const id = typeof b.instance_id === 'string' ? b.instance_id : randomUUID();
      const epoch = (this.instances.get(id)?.epoch ?? 0) + 1;
      this.instances.set(id, { service: String(b.service), epoch, body: b });
      return send(200, {
        service: b.service,
        instance_id: id,
        instance_token: `token-${this.seen.length}`,
        ttl_ms: this.ttlMs,
        ...(this.heartbeatIntervalMs === undefined ? {} : { heartbeat_interval_ms: this.heartbeatIntervalMs }),
        status: 'registered',
        epoch,
      });
    }
    const m = /^\/internal\/services\/([^/]+)\/instances\/([^/]+)(\/heartbeat)?$/.exec(seen.path);
    if (m === null) return send(404, { error: { code: 'ERR_FG_NOT_FOUND', message: 'no such route' } });
    const id = decodeURIComponent(m[2]!);
    if (!this.instances.has(id)) return unknown();
    if (seen.method === 'PUT' && m[3] !== undefined) return send(200, { status: 'ok' });
    if (seen.method === 'DELETE' && m[3] === undefined) {
      this.instances.delete(id);
      return send(200, { status: 'deregistered' });
    }
    return send(405, { error: { code: 'ERR_FG_NOT_FOUND', message: 'method' } });
  }
}

/** Waits (in real time) until `cond()` holds; fails after `ms`. */
export async function until(cond: () => boolean, what: string, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** Request timeout used by these tests: distinct from any heartbeat or backoff delay. */
export const REQ_TIMEOUT = 60_000;

const handles: ServiceRegistration[] = [];
const gateways: FakeGateway[] = [];
after(async () => {
  await Promise.all(handles.map((h) => h.close()));
  await Promise.all(gateways.map((g) => g.stop()));
});

/** Starts a FakeGateway on 127.0.0.1 (`port`, or a free one), stopped after all tests. */
export async function gateway(port = 0): Promise<FakeGateway> {
  const g = await new FakeGateway().start(port);
  gateways.push(g);
  return g;
}

/**
 * Starts `registerService` for service `sagjan` against `gw` with the given clock, a seeded random
 * and REQ_TIMEOUT; `extra` overrides any option. The handle is closed after all tests.
 */
export function register(gw: string, clock: Clock, extra: Partial<Parameters<typeof registerService>[0]> = {}) {
  const h = registerService({
    gateway: gw,
    service: 'sagjan',
    url: 'http://127.0.0.1:7812',
    clock,
    random: seededRandom(1),
    requestTimeoutMs: REQ_TIMEOUT,
    ...extra,
  });
  handles.push(h);
  return h;
}

/** A loopback port nobody listens on (taken, then released). */
export async function freePort(): Promise<number> {
  const g = await new FakeGateway().start();
  const port = g.port;
  await g.stop();
  return port;
}
