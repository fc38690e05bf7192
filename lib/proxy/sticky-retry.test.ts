/**
 * A retry is placed by its own request's sticky key (issue #12): the key travels with the
 * exchange, not on an engine-wide object another request overwrites while the first attempt is
 * still in flight.
 */
import assert from 'node:assert/strict';
import type { ServerResponse } from 'node:http';
import { describe, it } from 'node:test';
import type { ServiceInstance } from '../registry/model.js';
import { StickyBalancer } from '../routing/balancers/sticky.js';
import {
  echoUpstream,
  json,
  listen,
  memoryRegistry,
  registerInstance,
  send,
  type TestServer,
  waitFor,
} from '../test-support/http-test-kit.js';
import { discoveryProxy } from './discovery-proxy.js';

const ROUTES = [{ method: 'GET', path: '/s/**' }];

/** A key whose sticky choice is `first` among all three and `retry` among the two good ones. */
function keyFor(first: string, retry: string): string {
  const inst = (id: string) => ({ instanceId: id, weight: 1 }) as ServiceInstance;
  const all = [inst('x'), inst('y'), inst('z')];
  const good = [inst('y'), inst('z')];
  const sticky = new StickyBalancer();
  for (let n = 0; n < 10_000; n++) {
    const key = `k${n}`;
    if (sticky.pick(all, { stickyKey: key })?.instanceId !== first) continue;
    if (sticky.pick(good, { stickyKey: key })?.instanceId === retry) return key;
  }
  throw new Error(`no key picks ${first} then ${retry}`);
}

describe('sticky sessions and retries', () => {
  it('a retry is placed by its own request’s key while other requests are routed meanwhile', async () => {
    const registry = await memoryRegistry();
    // x takes the request, holds it, then drops the connection: a retryable failure of a GET.
    const held: ServerResponse[] = [];
    const x = await listen((_req, res) => {
      held.push(res);
    });
    const y = await echoUpstream('y');
    const z = await echoUpstream('z');
    const servers: TestServer[] = [x, y, z];
    const proxy = discoveryProxy({ registry, sticky: { header: 'x-session' } });
    const gw = await listen((req, res) => proxy(req, res));
    try {
      await registerInstance(registry, 's', x.url, ROUTES, { instanceId: 'x' });
      await registerInstance(registry, 's', y.url, ROUTES, { instanceId: 'y' });
      await registerInstance(registry, 's', z.url, ROUTES, { instanceId: 'z' });
      const keyA = keyFor('x', 'y');
      const keyB = keyFor('z', 'z');

      const a = send(`${gw.url}/s/a`, { headers: { 'x-session': keyA } });
      await waitFor(() => held.length === 1, 5000, 'request A held by x');
      // Another request with another key is routed while A's first attempt is in flight.
      const b = await send(`${gw.url}/s/b`, { headers: { 'x-session': keyB } });
      assert.equal(json<{ name: string }>(b).name, 'z');
      held[0]!.socket?.destroy();
      const resA = await a;
      assert.equal(resA.status, 200);
      assert.equal(json<{ name: string }>(resA).name, 'y', 'A’s retry follows A’s key, not B’s');
    } finally {
      await gw.close();
      await proxy.close();
      for (const s of servers) await s.close();
      await registry.close();
    }
  });
});
