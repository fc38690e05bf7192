/**
 * Load spread through discoveryProxy: round-robin, weighted canary split, sticky sessions.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, describe, it } from 'node:test';
import { type DiscoveryProxy, discoveryProxy } from '../lib/proxy/discovery-proxy.js';
import type { Registry } from '../lib/registry/registry.js';
import {
  echoUpstream,
  listen,
  memoryRegistry,
  registerInstance,
  type TestServer,
} from '../lib/test-support/http-test-kit.js';

const agent = new http.Agent({ keepAlive: true, maxSockets: 16 });

/** GET that answers the upstream's name. */
function nameOf(url: string, headers: http.OutgoingHttpHeaders = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    http
      .get(url, { agent, headers }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => {
          body += c;
        });
        res.on('end', () => resolve((JSON.parse(body) as { name: string }).name));
      })
      .on('error', reject);
  });
}

/** Sends `total` requests, `concurrency` at a time, and counts answers per upstream. */
async function spread(url: string, total: number, concurrency = 8): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < total) {
        next++;
        const name = await nameOf(url);
        counts.set(name, (counts.get(name) ?? 0) + 1);
      }
    }),
  );
  return counts;
}

describe('proxy balancing', () => {
  let registry: Registry;
  const ups: TestServer[] = [];
  const proxies: DiscoveryProxy[] = [];
  const gws: TestServer[] = [];

  async function gatewayFor(options: Parameters<typeof discoveryProxy>[0]): Promise<string> {
    const proxy = discoveryProxy({ registry, ...options });
    proxies.push(proxy);
    const gw = await listen((req, res) => proxy(req, res));
    gws.push(gw);
    return gw.url;
  }

  before(async () => {
    registry = await memoryRegistry();
    for (const name of ['rr-a', 'rr-b', 'rr-c']) {
      const s = await echoUpstream(name);
      ups.push(s);
      await registerInstance(registry, 'rr', s.url, [{ method: 'GET', path: '/rr/**' }], { instanceId: name });
    }
    for (const [name, weight] of [
      ['stable', 90],
      ['canary', 10],
    ] as const) {
      const s = await echoUpstream(name);
      ups.push(s);
      await registerInstance(registry, 'split', s.url, [{ method: 'GET', path: '/split/**' }], {
        instanceId: name,
        weight,
      });
    }
  });

  after(async () => {
    agent.destroy();
    for (const g of gws) await g.close();
    for (const p of proxies) await p.close();
    for (const s of ups) await s.close();
    await registry.close();
  });

  it('round-robin spreads evenly over 3 instances (±10%)', async () => {
    const url = await gatewayFor({});
    const counts = await spread(`${url}/rr/x`, 600);
    assert.equal(counts.size, 3);
    for (const [name, n] of counts) assert.ok(Math.abs(n - 200) <= 20, `${name}: ${n} of 600`);
  });

  it('weighted 90/10 holds within ±3% over 2,000 requests', async () => {
    const url = await gatewayFor({ balancer: 'weighted' });
    const counts = await spread(`${url}/split/x`, 2000, 16);
    const canary = (counts.get('canary') ?? 0) / 2000;
    assert.ok(Math.abs(canary - 0.1) <= 0.03, `canary share ${canary}`);
    assert.equal((counts.get('stable') ?? 0) + (counts.get('canary') ?? 0), 2000);
  });

  it('a 95/5 canary by version holds within ±3% over 2,000 requests', async () => {
    for (const [name, version] of [
      ['v1-a', '1.4.2'],
      ['v1-b', '1.4.2'],
      ['v1-c', '1.4.2'],
      ['v2-a', '2.0.0'],
    ] as const) {
      const s = await echoUpstream(name);
      ups.push(s);
      await registerInstance(registry, 'canary', s.url, [{ method: 'GET', path: '/canary/**' }], {
        instanceId: name,
        version,
      });
    }
    const url = await gatewayFor({ versionWeights: { canary: { '1.4.2': 95, '2.0.0': 5 } } });
    const counts = await spread(`${url}/canary/x`, 2000, 16);
    const v2 = (counts.get('v2-a') ?? 0) / 2000;
    assert.ok(Math.abs(v2 - 0.05) <= 0.03, `2.0.0 share ${v2}`);
    const v1 = ['v1-a', 'v1-b', 'v1-c'].map((n) => counts.get(n) ?? 0);
    assert.equal(v1.reduce((a, b) => a + b, 0) + (counts.get('v2-a') ?? 0), 2000);
    for (const n of v1) assert.ok(Math.abs(n - 633) <= 60, `1.4.2 instances ${v1.join('/')}`);
  });

  it('sticky sessions stay on one instance by cookie or header', async () => {
    const url = await gatewayFor({ sticky: { cookie: 'sid', header: 'x-session' } });
    const homes = new Set<string>();
    for (let user = 0; user < 12; user++) {
      const byCookie = new Set<string>();
      const byHeader = new Set<string>();
      for (let i = 0; i < 8; i++) {
        byCookie.add(await nameOf(`${url}/rr/x`, { cookie: `theme=dark; sid=user-${user}` }));
        byHeader.add(await nameOf(`${url}/rr/x`, { 'x-session': `user-${user}` }));
      }
      assert.equal(byCookie.size, 1, `cookie user-${user} moved: ${[...byCookie]}`);
      assert.equal(byHeader.size, 1, `header user-${user} moved: ${[...byHeader]}`);
      assert.deepEqual([...byCookie], [...byHeader], 'same key, same instance');
      homes.add([...byCookie][0]!);
    }
    assert.ok(homes.size >= 2, 'different keys spread over instances');
  });
});
