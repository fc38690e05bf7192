/**
 * The health ladder in real time against a real service process: it is killed (DOWN, out of
 * routing, /health says so) and restarted on the same port (UP again).
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import { healthAggregator } from '../lib/health/health-aggregator.js';
import { HealthChecker, type HealthTransition } from '../lib/health/health-checker.js';
import { MemoryBackend } from '../lib/registry/backends/memory.js';
import { Registry } from '../lib/registry/registry.js';

const SERVICE = `
const http = require('node:http');
const server = http.createServer((req, res) => res.writeHead(req.url === '/health' ? 200 : 404).end('ok'));
server.listen(Number(process.argv[1]), '127.0.0.1', () => console.log(server.address().port));
`;

/** Starts the service on `port` (0 = any) and resolves with the child and its port. */
async function startService(port: number): Promise<{ child: ChildProcess; port: number }> {
  const child = spawn(process.execPath, ['-e', SERVICE, String(port)], { stdio: ['ignore', 'pipe', 'inherit'] });
  const [line] = (await Promise.race([
    once(child.stdout!, 'data'),
    once(child, 'exit').then(() => {
      throw new Error('service exited before listening');
    }),
  ])) as [Buffer];
  return { child, port: Number(line.toString().trim()) };
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGKILL');
  await exited;
}

/** Resolves with the next transition of the checker to `to`, or fails after `ms`. */
function nextTransition(checker: HealthChecker, to: string, ms: number): Promise<HealthTransition> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      checker.off('transition', on);
      reject(new Error(`no transition to ${to} within ${ms} ms`));
    }, ms);
    const on = (t: HealthTransition) => {
      if (t.to !== to) return;
      clearTimeout(timer);
      checker.off('transition', on);
      resolve(t);
    };
    checker.on('transition', on);
  });
}

/** Polls `fn` until it returns true, failing after `ms`. */
async function until(fn: () => boolean | Promise<boolean>, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await fn())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe('health ladder (real time, real service process)', () => {
  it('takes a killed service DOWN and brings it back UP when it restarts on the same port', async () => {
    let service = await startService(0);
    const port = service.port;
    const registry = new Registry({ backend: new MemoryBackend(), ttlMs: 60_000, ownsBackend: true });
    const checker = new HealthChecker({
      registry,
      intervalMs: 100,
      timeoutMs: 100,
      maxFailures: 3,
      downIntervalMs: 100,
      stopAfter: 1000,
    });
    const health = healthAggregator({ registry, checker });
    const gateway = createServer((req, res) => health(req, res, () => res.writeHead(404).end()));
    try {
      await registry.ready();
      await new Promise<void>((resolve) => gateway.listen(0, '127.0.0.1', resolve));
      const healthUrl = `http://127.0.0.1:${(gateway.address() as AddressInfo).port}/health`;
      await registry.register({
        service: 'echo',
        instanceId: 'e1',
        url: `http://127.0.0.1:${port}`,
        healthEndpoint: '/health',
      });
      checker.start();
      await until(() => checker.get('echo', 'e1')?.lastSuccess !== undefined, 5000, 'a first successful probe');

      const wentDown = nextTransition(checker, 'DOWN', 5000);
      await stop(service.child);
      const down = await wentDown;
      assert.equal(down.from, 'UP');
      assert.equal(down.consecutiveFailures, 3);
      await until(() => registry.get('echo', 'e1')?.status === 'DOWN', 2000, 'the DOWN verdict in the registry');
      assert.deepEqual(
        registry.instances('echo').map((i) => i.status),
        ['DOWN'],
      );
      const report = await fetch(healthUrl);
      assert.equal(report.status, 200, '/health stays 200 while the gateway itself works; the body says unhealthy');
      const body = (await report.json()) as { status: string; services: { echo: { status: string } } };
      assert.equal(body.status, 'unhealthy');
      assert.equal(body.services.echo.status, 'DOWN');

      const cameBack = nextTransition(checker, 'UP', 5000);
      service = await startService(port);
      assert.equal(service.port, port);
      assert.equal((await cameBack).from, 'DOWN');
      await until(() => registry.get('echo', 'e1')?.status === 'UP', 2000, 'the UP verdict in the registry');
      const healthy = await fetch(healthUrl);
      assert.equal(healthy.status, 200);
      assert.equal(((await healthy.json()) as { status: string }).status, 'healthy');
    } finally {
      await stop(service.child);
      await checker.close();
      await registry.close();
      gateway.closeAllConnections();
      await new Promise((resolve) => gateway.close(resolve));
    }
  });
});
