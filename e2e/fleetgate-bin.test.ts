import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { TLS } from '../fixtures/tls-material.js';
import { spawnGateway, startGateway } from './support/gateway-process.js';
import { httpsUpstream } from './support/https-upstream.js';

async function within<T>(what: string, ms: number, promise: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

describe('fleetgate bin', () => {
  test('PORT=0: prints its port, registers, shows the service in /health, exits 0 on SIGTERM', async () => {
    // PORT=0, HOST=127.0.0.1, LOG_LEVEL=warn; resolves once the listening line is printed.
    const bin = await startGateway();
    try {
      assert.match(bin.url, /^http:\/\/127\.0\.0\.1:\d+$/);
      assert.notEqual(bin.port, 0);
      const base = bin.url;
      const reg = await bin.register({
        service: 'sagjan',
        url: 'http://127.0.0.1:7812',
        health_endpoint: '/health',
        routes: [{ method: 'GET', path: '/api/comments/*', permission: 'comments:read' }],
      });
      assert.equal(reg.status, 200);
      const registered = (await reg.json()) as { instance_id: string; ttl_ms: number };
      assert.equal(registered.ttl_ms, 90_000);

      const health = (await (await fetch(`${base}/health`)).json()) as {
        status: string;
        registry: { type: string };
        services: Record<string, { status: string; instances: { instance_id: string }[] }>;
      };
      assert.equal(health.status, 'healthy');
      assert.equal(health.registry.type, 'INMEMORY');
      assert.equal(health.services.sagjan?.status, 'UP');
      assert.equal(health.services.sagjan?.instances[0]?.instance_id, registered.instance_id);

      bin.child.kill('SIGTERM');
      // Well inside the 10 s grace: nothing is in flight, so shutdown must not wait it out.
      const exit = await within('exit after SIGTERM', 8_000, bin.exited);
      assert.deepEqual(exit, { code: 0, signal: null }, bin.stderr());
    } finally {
      await bin.kill();
    }
  });

  test('NODE_EXTRA_CA_CERTS: proxies to and health-checks an https instance behind a private CA', async () => {
    const upstream = await httpsUpstream(false);
    const bin = await startGateway({ NODE_EXTRA_CA_CERTS: TLS.caPath, HEALTH_CHECK_INTERVAL: '100ms' });
    try {
      const reg = await bin.register({
        service: 'sec',
        url: upstream.url,
        health_endpoint: '/health',
        routes: [{ method: 'GET', path: '/sec/**' }],
      });
      assert.equal(reg.status, 200, await reg.clone().text());
      const res = await fetch(`${bin.url}/sec/a`);
      assert.equal(res.status, 200, await res.clone().text());
      assert.deepEqual(await res.json(), { url: '/sec/a', secure: true });
      // The bin's health checker probes /health over TLS with the same trust store: a failing
      // probe never reaches the handler, so three hits are the request and two probes.
      const deadline = Date.now() + 15_000;
      while (upstream.hits < 3) {
        if (Date.now() > deadline) assert.fail('the health checker never probed the https instance');
        await new Promise((r) => setTimeout(r, 50));
      }
      const health = (await (await fetch(`${bin.url}/health`)).json()) as {
        services: Record<string, { status: string }>;
      };
      assert.equal(health.services.sec?.status, 'UP');
    } finally {
      await bin.kill();
      await upstream.close();
    }
  });

  test('REGISTRY_TTL=banana: exits 1 and names the variable on stderr', async () => {
    const bin = spawnGateway({ PORT: '0', HOST: '127.0.0.1', REGISTRY_TTL: 'banana' });
    try {
      const exit = await within('exit on invalid config', 30_000, bin.exited);
      assert.equal(exit.code, 1);
      assert.match(bin.stderr(), /REGISTRY_TTL/);
      assert.doesNotMatch(bin.stdout(), /listening/);
    } finally {
      await bin.kill();
    }
  });
});
