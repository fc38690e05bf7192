import assert from 'node:assert/strict';
import { request } from 'node:http';
import { describe, test } from 'node:test';
import { FakeClock } from './clock.js';
import { createGateway } from './gateway.js';
import { MemoryBackend } from './registry/backends/memory.js';
import { createRegistry } from './registry/create-registry.js';
import { listen } from './test-support/http-test-kit.js';

function get(url: string): Promise<{ status: number; connection: string | undefined; body: string }> {
  return new Promise((resolve, reject) => {
    request(url, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (d: string) => {
        body += d;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, connection: res.headers.connection, body }));
    })
      .on('error', reject)
      .end();
  });
}

describe('createGateway liveness, readiness and drain', () => {
  test('/livez and /readyz answer; /readyz fails first on close while in-flight requests finish with Connection: close', async () => {
    await using registry = await createRegistry({ backend: new MemoryBackend(), ownsBackend: true });
    let release!: () => void;
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    const slow = await listen((_req, res) => {
      void held.then(() => res.end('slow done'));
    });
    const clock = new FakeClock(Date.now());
    const gateway = await createGateway({
      registry,
      clock,
      env: {},
      healthChecks: false,
      server: { requestTimeoutMs: 5000 },
    });
    try {
      const { port } = await gateway.listen(0, '127.0.0.1');
      const base = `http://127.0.0.1:${port}`;
      await registry.register({ service: 'slow', url: slow.url, routes: [{ method: 'GET', path: '/slow' }] });
      assert.deepEqual(JSON.parse((await get(`${base}/livez`)).body), { status: 'ok' });
      const ready = await get(`${base}/readyz`);
      assert.equal(ready.status, 200);
      assert.deepEqual(JSON.parse(ready.body), {
        status: 'ready',
        registry: 'loaded',
        store: 'connected',
        draining: false,
      });
      assert.equal(gateway.server.requestTimeout, 5000);
      assert.equal(gateway.server.maxConnections, 10_000);

      const inFlight = get(`${base}/slow`);
      const deadline = Date.now() + 2000;
      while (slow.hits === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
      assert.equal(slow.hits, 1);
      // The delay (on the fake clock) keeps the listener open while readiness already fails.
      const closed = gateway.close({ delayMs: 60_000, graceMs: 5000 });
      assert.equal(gateway.draining, true);
      const notReady = await get(`${base}/readyz`);
      assert.equal(notReady.status, 503);
      assert.equal(JSON.parse(notReady.body).draining, true);
      assert.equal(notReady.connection, 'close', 'keep-alive clients are told to go');
      assert.equal((await get(`${base}/livez`)).status, 200, 'liveness never depends on draining');
      release();
      const done = await inFlight;
      assert.equal(done.body, 'slow done');
      assert.equal(done.connection, 'close');
      await clock.advance(60_000);
      await closed;
      assert.equal(gateway.server.listening, false);
    } finally {
      release();
      await clock.advance(60_000);
      await gateway.close();
      await slow.close();
    }
  });
});
