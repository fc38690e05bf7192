import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { type Clock, FakeClock, type TimerHandle } from '../clock.js';
import { type FleetgateError, isFleetgateError } from '../errors.js';
import { seededRandom } from './backoff.js';
import { GatewayApi, isTransientGatewayError, retryAfterOf } from './gateway-api.js';
import { REGISTER_SERVICE_DEFAULTS } from './register-options.js';
import { registerService, type ServiceRegistration } from './register-service.js';

/** What the fake gateway saw. */
interface Seen {
  method: string;
  path: string;
  body: Record<string, unknown> | undefined;
  authorization: string | undefined;
}

type Override = (req: Seen) => { status: number; body?: unknown; headers?: Record<string, string> } | undefined;

/**
 * A stand-in for the gateway's registration API: the three endpoints, an in-memory map, and a
 * hook to answer differently. The real gateway is exercised by e2e/client-reregister.test.ts.
 */
class FakeGateway {
  readonly seen: Seen[] = [];
  readonly instances = new Map<string, { service: string; epoch: number; body: Record<string, unknown> }>();
  override: Override | undefined;
  ttlMs = 3000;
  heartbeatIntervalMs: number | undefined = 1000;
  #server: Server | undefined;
  port = 0;

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

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  count(method: string, pathEnd = ''): number {
    return this.seen.filter((s) => s.method === method && s.path.endsWith(pathEnd)).length;
  }

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

/** A FakeClock that remembers every setTimeout delay it was asked for. */
class RecordingClock implements Clock {
  readonly fake = new FakeClock(0);
  readonly delays: number[] = [];
  now(): number {
    return this.fake.now();
  }
  setTimeout(fn: () => void, ms: number): TimerHandle {
    this.delays.push(ms);
    return this.fake.setTimeout(fn, ms);
  }
  setInterval(fn: () => void, ms: number): TimerHandle {
    return this.fake.setInterval(fn, ms);
  }
}

/** Waits (in real time) until `cond()` holds; fails after `ms`. */
async function until(cond: () => boolean, what: string, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** Request timeout used by these tests: distinct from any heartbeat or backoff delay. */
const REQ_TIMEOUT = 60_000;

const handles: ServiceRegistration[] = [];
const gateways: FakeGateway[] = [];
after(async () => {
  await Promise.all(handles.map((h) => h.close()));
  await Promise.all(gateways.map((g) => g.stop()));
});

async function gateway(port = 0): Promise<FakeGateway> {
  const g = await new FakeGateway().start(port);
  gateways.push(g);
  return g;
}

function register(gw: string, clock: Clock, extra: Partial<Parameters<typeof registerService>[0]> = {}) {
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
async function freePort(): Promise<number> {
  const g = await new FakeGateway().start();
  const port = g.port;
  await g.stop();
  return port;
}

describe('registerService', () => {
  it('registers at once with the snake_case body, the token, and resolves ready', async () => {
    const gw = await gateway();
    const clock = new FakeClock(0);
    const h = register(gw.url, clock, {
      routes: [{ method: 'GET', path: '/api/comments/*', permission: 'comments:read', timeoutMs: 2000 }],
      healthEndpoint: '/health',
      weight: 2,
      version: '1.2.3',
      zone: 'eu-1',
      metadata: { team: 'x' },
      token: 's3cret',
    });
    assert.equal(h.instanceId, undefined);
    const events: string[] = [];
    h.on('registered', () => events.push('registered'));
    const reg = await h.ready;
    assert.deepEqual(events, ['registered']);
    assert.equal(h.state, 'registered');
    assert.equal(h.instanceId, reg.instanceId);
    assert.ok(gw.instances.has(reg.instanceId));
    assert.equal(reg.heartbeatIntervalMs, 1000);
    assert.equal(reg.ttlMs, 3000);
    assert.equal(reg.epoch, 1);
    const post = gw.seen[0]!;
    assert.equal(post.authorization, 'Bearer s3cret');
    assert.deepEqual(post.body, {
      service: 'sagjan',
      url: 'http://127.0.0.1:7812',
      health_endpoint: '/health',
      routes: [{ method: 'GET', path: '/api/comments/*', permission: 'comments:read', timeout_ms: 2000 }],
      weight: 2,
      version: '1.2.3',
      zone: 'eu-1',
      metadata: { team: 'x' },
    });
    await h.close();
  });

  it('heartbeats every interval with jitter inside ±10 %, on the server interval', async () => {
    const gw = await gateway();
    const clock = new RecordingClock();
    const h = register(gw.url, clock, { instanceId: 'i-1', ttl: '90s' });
    assert.equal(h.instanceId, 'i-1');
    let beats = 0;
    h.on('heartbeat', () => beats++);
    await h.ready;
    for (let i = 1; i <= 12; i++) {
      await clock.fake.advance(1100);
      await until(() => beats === i, `heartbeat ${i}`);
    }
    assert.equal(gw.count('PUT', '/heartbeat'), 12);
    const waits = clock.delays.filter((d) => d !== REQ_TIMEOUT);
    assert.equal(waits.length, 13); // one scheduled after registering, one after each heartbeat
    for (const w of waits) assert.ok(w >= 900 && w <= 1100, `heartbeat wait ${w} ms outside ±10 %`);
    assert.ok(new Set(waits).size > 1, 'waits are jittered, not constant');
  });

  it('without heartbeat_interval_ms from the server, heartbeats every ttl / 3', async () => {
    const gw = await gateway();
    gw.heartbeatIntervalMs = undefined;
    gw.ttlMs = 9000;
    const clock = new RecordingClock();
    const h = register(gw.url, clock, { jitter: 0 });
    const reg = await h.ready;
    assert.equal(reg.heartbeatIntervalMs, 3000);
    assert.deepEqual(
      clock.delays.filter((d) => d !== REQ_TIMEOUT),
      [3000],
    );
  });

  it('a 404 on heartbeat re-registers at once with the same instance id and emits reregistered', async () => {
    const gw = await gateway();
    const clock = new FakeClock(0);
    const h = register(gw.url, clock);
    const first = await h.ready;
    const again: number[] = [];
    h.on('reregistered', (r) => again.push(r.epoch ?? -1));
    gw.instances.clear(); // the gateway restarted with an in-memory store
    await clock.advance(1100);
    await until(() => again.length === 1, 'reregistered');
    assert.equal(h.instanceId, first.instanceId);
    const posts = gw.seen.filter((s) => s.method === 'POST');
    assert.equal(posts.length, 2);
    assert.equal(posts[1]!.body?.instance_id, first.instanceId);
    assert.ok(gw.instances.has(first.instanceId));
    // Heartbeats resume on the new lease.
    const before = gw.count('PUT', '/heartbeat');
    await clock.advance(1100);
    await until(() => gw.count('PUT', '/heartbeat') === before + 1, 'heartbeat after re-registering');
  });

  it('while the gateway is down, retries with growing capped backoff, then registers when it returns', async () => {
    const port = await freePort();
    const clock = new FakeClock(0);
    const h = register(`http://127.0.0.1:${port}`, clock, { random: () => 0.999_999 });
    const failures: { attempt: number; retryInMs: number; code: string }[] = [];
    h.on('registration-failed', (err, retry) => failures.push({ ...retry, code: err.code }));
    let registered = false;
    h.on('registered', () => {
      registered = true;
    });
    await until(() => failures.length === 1, 'first failure');
    for (let i = 1; i < 8; i++) {
      await clock.advance(failures[i - 1]!.retryInMs);
      await until(() => failures.length === i + 1, `failure ${i + 1}`);
    }
    assert.deepEqual(
      failures.map((f) => f.retryInMs),
      [499, 999, 1999, 3999, 7999, 15_999, 29_999, 29_999],
    );
    assert.ok(failures.every((f) => f.code === 'ERR_FG_UPSTREAM_CONNECT'));
    assert.equal(h.state, 'registering');
    const gw = await gateway(port);
    await clock.advance(29_999);
    await until(() => registered, 'registered once the gateway is back');
    assert.equal(gw.count('POST'), 1);
  });

  it('honours Retry-After on 429 and 503', async () => {
    const gw = await gateway();
    let n = 0;
    gw.override = (s) => {
      if (s.method !== 'POST' || ++n > 2) return undefined;
      return n === 1
        ? {
            status: 429,
            body: { error: { code: 'ERR_FG_RATE_LIMITED', message: 'slow down' } },
            headers: { 'retry-after': '7' },
          }
        : {
            status: 503,
            body: { error: { code: 'ERR_FG_STORE_UNAVAILABLE', message: 'store' } },
            headers: { 'retry-after': '12' },
          };
    };
    const clock = new FakeClock(0);
    const h = register(gw.url, clock);
    const waits: number[] = [];
    h.on('registration-failed', (_e, r) => waits.push(r.retryInMs));
    await until(() => waits.length === 1, '429');
    assert.equal(waits[0], 7000);
    await clock.advance(6999);
    assert.equal(gw.count('POST'), 1, 'no retry before Retry-After');
    await clock.advance(1);
    await until(() => waits.length === 2, '503');
    assert.equal(waits[1], 12_000);
    await clock.advance(12_000);
    await h.ready;
    assert.equal(gw.count('POST'), 3);
  });

  for (const [status, code] of [
    [400, 'ERR_FG_INVALID_BODY'],
    [409, 'ERR_FG_ROUTE_CONFLICT'],
    [401, 'ERR_FG_UNAUTHORIZED'],
  ] as const) {
    it(`a ${status} is permanent: 'error', ready rejects, no retry loop`, async () => {
      const gw = await gateway();
      gw.override = (s) =>
        s.method === 'POST' ? { status, body: { error: { code, message: `refused ${status}` } } } : undefined;
      const clock = new FakeClock(0);
      const h = register(gw.url, clock, { instanceId: 'i-perm' });
      const errors: FleetgateError[] = [];
      h.on('error', (e) => errors.push(e));
      await assert.rejects(h.ready, (e: unknown) => isFleetgateError(e, code) && e.status === status);
      assert.equal(errors.length, 1);
      assert.equal(errors[0]!.code, code);
      assert.equal(h.state, 'failed');
      assert.equal(clock.pending, 0, 'no timer left: nothing will retry');
      await clock.advance(10 * 60_000);
      assert.equal(gw.count('POST'), 1);
      await h.close();
      assert.equal(gw.count('DELETE'), 0, 'nothing to deregister');
    });
  }

  it("a permanent failure without an 'error' listener is logged, not thrown", async () => {
    const gw = await gateway();
    gw.override = () => ({ status: 403, body: { error: { code: 'ERR_FG_FORBIDDEN', message: 'not from here' } } });
    const logged: string[] = [];
    const h = register(gw.url, new FakeClock(0), {
      logger: { info: () => {}, warn: () => {}, error: (m: string) => logged.push(m) },
    });
    await assert.rejects(h.ready, (e: unknown) => isFleetgateError(e, 'ERR_FG_FORBIDDEN'));
    assert.equal(logged.length, 1);
    assert.match(logged[0]!, /not from here/);
  });

  it('keeps heartbeating through gateway errors, then re-registers after the TTL when it comes back', async () => {
    let gw = await gateway();
    const port = gw.port;
    const clock = new FakeClock(0);
    const h = register(gw.url, clock, { instanceId: 'i-keep' });
    await h.ready;
    const failed: string[] = [];
    h.on('heartbeat-failed', (e) => failed.push(e.code));
    const back: string[] = [];
    h.on('reregistered', (r) => back.push(r.instanceId));
    let regFailures = 0;
    h.on('registration-failed', () => regFailures++);
    gw.override = () => ({ status: 503, body: { error: { code: 'ERR_FG_STORE_UNAVAILABLE', message: 'down' } } });
    await clock.advance(1100);
    await until(() => failed.length === 1, 'first failed heartbeat');
    assert.equal(h.state, 'registered', 'the lease still runs: keep heartbeating');
    await gw.stop();
    for (let i = 2; i <= 3; i++) {
      await clock.advance(1100);
      await until(() => failed.length === i, `failed heartbeat ${i}`);
    }
    assert.deepEqual(failed, ['ERR_FG_STORE_UNAVAILABLE', 'ERR_FG_UPSTREAM_CONNECT', 'ERR_FG_UPSTREAM_CONNECT']);
    await until(() => regFailures === 1, 'switch to registering after the TTL');
    gw = await gateway(port);
    // Once registered, retry waits are capped at the heartbeat interval.
    await clock.advance(1000);
    await until(() => back.length === 1, 'reregistered');
    assert.deepEqual(back, ['i-keep']);
    assert.equal(gw.instances.get('i-keep')?.epoch, 1, 'a fresh gateway: registered anew');
  });

  it('close() deregisters, stops every timer, and is idempotent', async () => {
    const gw = await gateway();
    const clock = new FakeClock(0);
    const h = register(gw.url, clock);
    const { instanceId } = await h.ready;
    await Promise.all([h.close(), h.close()]);
    await h[Symbol.asyncDispose]();
    assert.equal(h.state, 'closed');
    assert.equal(gw.instances.has(instanceId), false);
    assert.equal(gw.count('DELETE', `/instances/${instanceId}`), 1);
    assert.equal(clock.pending, 0);
    await clock.advance(60_000);
    assert.equal(gw.count('PUT'), 0);
  });

  it('close() before the first registration rejects ready with ERR_FG_CLOSED and stops retrying', async () => {
    const port = await freePort();
    const clock = new FakeClock(0);
    const h = register(`http://127.0.0.1:${port}`, clock);
    let failures = 0;
    h.on('registration-failed', () => failures++);
    await until(() => failures === 1, 'first failure');
    await h.close();
    await assert.rejects(h.ready, (e: unknown) => isFleetgateError(e, 'ERR_FG_CLOSED'));
    assert.equal(clock.pending, 0);
  });

  it('validates options up front and freezes its defaults', () => {
    assert.ok(Object.isFrozen(REGISTER_SERVICE_DEFAULTS));
    const bad = (o: object) =>
      assert.throws(
        () => registerService({ gateway: 'http://127.0.0.1:1', service: 's', url: 'http://127.0.0.1:2', ...o }),
        (e: unknown) => isFleetgateError(e, 'ERR_FG_INVALID_CONFIG'),
      );
    bad({ gateway: 'not a url' });
    bad({ service: '' });
    bad({ url: 'ftp://x' });
    bad({ ttl: 'soon' });
    bad({ jitter: 1.5 });
    bad({ backoff: { maxMs: 10 } });
    bad({ prefix: 'internal' });
  });
});

describe('GatewayApi', () => {
  it('classifies errors and times out through the clock', async () => {
    const gw = await gateway();
    const clock = new FakeClock(0);
    const api = new GatewayApi({
      gateway: gw.url,
      prefix: '/internal',
      token: undefined,
      requestTimeoutMs: 1000,
      clock,
    });
    try {
      gw.override = () => ({ status: 409, body: { error: { code: 'ERR_FG_ROUTE_CONFLICT', message: 'taken' } } });
      const conflict = await api.register({ service: 's', url: 'http://127.0.0.1:1', routes: [] }).catch((e) => e);
      assert.ok(isFleetgateError(conflict, 'ERR_FG_ROUTE_CONFLICT'));
      assert.equal(isTransientGatewayError(conflict), false);
      gw.override = () => ({ status: 503, headers: { 'retry-after': '2' } });
      const busy = await api.heartbeat('s', 'x').catch((e) => e);
      assert.equal(isTransientGatewayError(busy), true);
      assert.equal(retryAfterOf(busy), 2000);
      gw.override = undefined;
      assert.equal(await api.deregister('s', 'nobody'), false);
      const hang = createServer(() => {}); // accepts, never answers
      await new Promise<void>((r) => hang.listen(0, '127.0.0.1', () => r()));
      const slow = new GatewayApi({
        gateway: `http://127.0.0.1:${(hang.address() as AddressInfo).port}`,
        prefix: '/internal',
        token: undefined,
        requestTimeoutMs: 1000,
        clock,
      });
      const pending = slow.heartbeat('s', 'x').catch((e) => e);
      await until(() => clock.pending > 0, 'request timer armed');
      await clock.advance(1000);
      const timedOut = await pending;
      assert.ok(isFleetgateError(timedOut, 'ERR_FG_UPSTREAM_TIMEOUT'));
      assert.equal(isTransientGatewayError(timedOut), true);
      await slow.close();
      hang.closeAllConnections();
      await new Promise<void>((r) => hang.close(() => r()));
    } finally {
      await api.close();
    }
  });
});

describe('handleSignals', () => {
  it('on SIGTERM deregisters, then the process dies of SIGTERM', async () => {
    const gw = await gateway();
    const entry = fileURLToPath(new URL('./register-service.ts', import.meta.url));
    const script = `
      import { registerService } from ${JSON.stringify(entry)};
      const h = registerService({ gateway: ${JSON.stringify(gw.url)}, service: 'sig', url: 'http://127.0.0.1:9', instanceId: 'i-sig', handleSignals: true });
      await h.ready;
      console.log('ready');
      setInterval(() => {}, 1000); // a busy service: only the signal ends it
    `;
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    try {
      let out = '';
      child.stdout.on('data', (d) => {
        out += d;
      });
      const exited = new Promise<NodeJS.Signals | null>((resolve) => child.once('exit', (_c, s) => resolve(s)));
      await until(() => out.includes('ready'), 'child registered', 20_000);
      child.kill('SIGTERM');
      assert.equal(await exited, 'SIGTERM');
      assert.equal(gw.count('DELETE', '/instances/i-sig'), 1);
      assert.equal(gw.instances.has('i-sig'), false);
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
  });
});
