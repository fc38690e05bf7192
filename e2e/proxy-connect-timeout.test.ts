/**
 * The connect timeout, against an address that swallows handshakes (lib/test-support/blackhole.ts):
 * alone, the dark instance gives 504 ERR_FG_UPSTREAM_TIMEOUT after `connectTimeoutMs`; beside a
 * live one, every request is retried there (nothing reached the dark one) and the dark one is
 * ejected after consecutive connect failures.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type DiscoveryProxy, discoveryProxy } from '../lib/proxy/discovery-proxy.js';
import type { Registry } from '../lib/registry/registry.js';
import { type Blackhole, startBlackhole } from '../lib/test-support/blackhole.js';
import {
  json,
  listen,
  memoryRegistry,
  registerInstance,
  send,
  type TestServer,
} from '../lib/test-support/http-test-kit.js';

const CONNECT_TIMEOUT_MS = 250;

describe('proxy connect timeout', () => {
  let registry: Registry;
  let proxy: DiscoveryProxy;
  const warnings: string[] = [];
  let gw: TestServer;
  let dark: Blackhole;
  let live: TestServer;

  before(async () => {
    registry = await memoryRegistry();
    dark = await startBlackhole();
    live = await listen((_req, res) => res.end('live'));
    proxy = discoveryProxy({
      registry,
      connectTimeoutMs: CONNECT_TIMEOUT_MS,
      timeoutMs: 5000,
      logger: { info: () => {}, warn: (m: unknown) => warnings.push(String(m)), error: () => {} },
    });
    gw = await listen((req, res) => proxy(req, res));
  });

  after(async () => {
    await gw.close();
    await proxy.close();
    await live.close();
    await dark.close();
    await registry.close();
  });

  it('answers 504 ERR_FG_UPSTREAM_TIMEOUT after connectTimeoutMs when the only instance never accepts', async () => {
    await registerInstance(registry, 'dark', dark.url, [{ method: 'POST', path: '/dark' }], { instanceId: 'd1' });
    const started = performance.now();
    const res = await send(`${gw.url}/dark`, { method: 'POST', body: 'payload' });
    const took = performance.now() - started;
    assert.equal(res.status, 504);
    const body = json<{ error: { code: string; message: string } }>(res);
    assert.equal(body.error.code, 'ERR_FG_UPSTREAM_TIMEOUT');
    assert.match(body.error.message, /connecting to the upstream timed out/);
    assert.ok(!res.body.includes('d1') && !res.body.includes(dark.url), 'no instance id or address in the body');
    assert.ok(
      warnings.some((w) => w.includes('dark/d1') && w.includes(dark.url)),
      `the log names the instance: ${warnings.join('\n')}`,
    );
    // The connect timeout, not the 5 s response timeout, ended it.
    assert.ok(took >= CONNECT_TIMEOUT_MS - 10 && took < 4000, `504 after ${Math.round(took)} ms`);
  });

  it('retries on the live instance (a POST too: nothing was sent) and ejects the dark one', async () => {
    const routes = [{ method: 'POST', path: '/mixed' }];
    await registerInstance(registry, 'mixed', dark.url, routes, { instanceId: 'm-dark' });
    await registerInstance(registry, 'mixed', live.url, routes, { instanceId: 'm-live' });
    const statuses: number[] = [];
    for (let i = 0; i < 8; i++) {
      const res = await send(`${gw.url}/mixed`, { method: 'POST', body: `n=${i}` });
      statuses.push(res.status);
      assert.equal(res.body, 'live');
    }
    assert.deepEqual(statuses, Array(8).fill(200));
    assert.ok(proxy.engine!.outliers.isEjected('mixed', 'm-dark'), 'the dark instance is ejected');
    assert.deepEqual(proxy.explain('POST', '/mixed').excluded, [{ instanceId: 'm-dark', reason: 'ejected' }]);
  });
});
