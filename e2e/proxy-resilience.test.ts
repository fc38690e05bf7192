/**
 * Failures through discoveryProxy: a killed instance is retried around and ejected within 1 s,
 * a hanging upstream gives 504 at the configured timeout, and a POST is never delivered twice
 * nor empty, whatever fails.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, describe, it } from 'node:test';
import { type DiscoveryProxy, discoveryProxy } from '../lib/proxy/discovery-proxy.js';
import type { Registry } from '../lib/registry/registry.js';
import {
  json,
  listen,
  memoryRegistry,
  registerInstance,
  send,
  type TestServer,
  waitFor,
} from '../lib/test-support/http-test-kit.js';

type ErrorBody = { error: { code: string } };

/** An upstream that records every body it fully receives, then answers (or hangs up without answering). */
async function recordingUpstream(name: string, mode: 'answer' | 'hang-up') {
  const deliveries: string[] = [];
  const server = await listen((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      deliveries.push(Buffer.concat(chunks).toString('utf8'));
      if (mode === 'hang-up') {
        req.socket.destroy();
        return;
      }
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end(name);
    });
  });
  return { server, deliveries };
}

const keepAlive = new http.Agent({ keepAlive: true, maxSockets: 8 });

function get(url: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    http
      .get(url, { agent: keepAlive }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => {
          body += c;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      })
      .on('error', reject);
  });
}

describe('proxy resilience', () => {
  let registry: Registry;
  let proxy: DiscoveryProxy;
  let gw: TestServer;
  const servers: TestServer[] = [];

  before(async () => {
    registry = await memoryRegistry();
    proxy = discoveryProxy({ registry, timeoutMs: 300 });
    gw = await listen((req, res) => proxy(req, res));
  });

  after(async () => {
    keepAlive.destroy();
    await gw.close();
    await proxy.close();
    for (const s of servers) await s.close();
    await registry.close();
  });

  it('retries around a killed instance and ejects it within 1 s', async () => {
    const names = ['k-a', 'k-b', 'k-c'];
    const ups: TestServer[] = [];
    for (const name of names) {
      const s = await listen((_req, res) => res.end(name));
      ups.push(s);
      servers.push(s);
      await registerInstance(registry, 'kill', s.url, [{ method: 'GET', path: '/kill/**' }], { instanceId: name });
    }
    // Warm every instance's pool so the kill also cuts live keep-alive connections.
    for (let i = 0; i < 9; i++) assert.equal((await get(`${gw.url}/kill/x`)).status, 200);

    const victim = ups[1]!;
    const failures: string[] = [];
    let stop = false;
    const load = Promise.all(
      Array.from({ length: 4 }, async () => {
        while (!stop) {
          const r = await get(`${gw.url}/kill/x`);
          if (r.status !== 200) failures.push(`${r.status} ${r.body}`);
        }
      }),
    );
    await waitFor(() => victim.hits >= 12, 5000, 'traffic on the victim');
    const killedAt = Date.now();
    await victim.close();
    await waitFor(() => proxy.engine!.outliers.isEjected('kill', 'k-b'), 1000, 'ejection within 1 s');
    const ejectedAfter = Date.now() - killedAt;
    const before = ups[0]!.hits + ups[2]!.hits;
    await waitFor(() => ups[0]!.hits + ups[2]!.hits >= before + 40, 5000, 'traffic after the kill');
    stop = true;
    await load;
    assert.deepEqual(failures, [], 'no idempotent request failed');
    assert.ok(ejectedAfter <= 1000, `ejected after ${ejectedAfter} ms`);
    const excluded = proxy.explain('GET', '/kill/x').excluded;
    assert.deepEqual(excluded, [{ instanceId: 'k-b', reason: 'ejected' }]);
  });

  it('answers 504 at the configured timeout when the upstream hangs', async () => {
    const hanging = await listen(() => {});
    servers.push(hanging);
    await registerInstance(registry, 'hang', hanging.url, [{ method: 'GET', path: '/hang' }]);
    const started = Date.now();
    const res = await send(`${gw.url}/hang`);
    const took = Date.now() - started;
    assert.equal(res.status, 504);
    assert.equal(json<ErrorBody>(res).error.code, 'ERR_FG_UPSTREAM_TIMEOUT');
    assert.equal(res.headers['x-gateway'], 'fleetgate');
    assert.ok(took >= 290 && took < 1200, `504 after ${took} ms (timeout 300 ms)`);
  });

  it('never delivers a POST twice or empty', async () => {
    const hangUp = await recordingUpstream('hang-up', 'hang-up');
    const good = await recordingUpstream('good', 'answer');
    const dead = await listen(() => {});
    const deadUrl = dead.url;
    await dead.close();
    servers.push(hangUp.server, good.server);
    await registerInstance(registry, 'post', deadUrl, [{ method: 'POST', path: '/post/**' }], { instanceId: 'p-dead' });
    await registerInstance(registry, 'post', hangUp.server.url, [{ method: 'POST', path: '/post/**' }], {
      instanceId: 'p-hangup',
    });
    await registerInstance(registry, 'post', good.server.url, [{ method: 'POST', path: '/post/**' }], {
      instanceId: 'p-good',
    });

    const small = 'small-body';
    const large = 'L'.repeat(200_000); // above the 64 KiB replay buffer: streamed
    const sent: string[] = [];
    const outcomes = new Map<number, number>();
    for (let i = 0; i < 18; i++) {
      const body = `${i}:${i % 2 === 0 ? small : large}`;
      sent.push(body);
      const res = await send(`${gw.url}/post/x`, {
        method: 'POST',
        headers: { 'content-type': 'text/plain' },
        body,
      });
      outcomes.set(res.status, (outcomes.get(res.status) ?? 0) + 1);
      if (res.status === 502) assert.equal(json<ErrorBody>(res).error.code, 'ERR_FG_UPSTREAM_CONNECT');
      else assert.equal(res.status, 200);
    }
    const delivered = [...hangUp.deliveries, ...good.deliveries];
    assert.ok(!delivered.includes(''), 'no empty delivery');
    const counts = new Map<string, number>();
    for (const d of delivered) counts.set(d, (counts.get(d) ?? 0) + 1);
    for (const [body, n] of counts) assert.equal(n, 1, `delivered ${n} times: ${body.slice(0, 20)}`);
    for (const d of delivered) assert.ok(sent.includes(d), 'delivered intact');
    // Refused connections were retried (nothing had been sent); hang-ups were not (the body had arrived).
    assert.equal(good.deliveries.length, outcomes.get(200));
    assert.equal(hangUp.deliveries.length, outcomes.get(502) ?? 0);
    assert.ok((outcomes.get(200) ?? 0) > 0 && (outcomes.get(502) ?? 0) > 0, JSON.stringify([...outcomes]));
  });

  it('replays a streamed POST body on another instance when the connection was refused', async () => {
    const good = await recordingUpstream('good', 'answer');
    const dead = await listen(() => {});
    const deadUrl = dead.url;
    await dead.close();
    servers.push(good.server);
    const reg = await memoryRegistry();
    // Never eject, so every other request meets the refusing instance first.
    const stubborn = discoveryProxy({
      registry: reg,
      outlier: { consecutiveConnectFailures: 1000, consecutiveFailures: 1000 },
      breaker: { consecutiveFailures: 1000 },
    });
    const sgw = await listen((req, res) => stubborn(req, res));
    try {
      await registerInstance(reg, 'up', deadUrl, [{ method: 'POST', path: '/up' }]);
      await registerInstance(reg, 'up', good.server.url, [{ method: 'POST', path: '/up' }]);
      const bodies = Array.from({ length: 6 }, (_, i) => `${i}:${'S'.repeat(300_000)}`);
      for (const body of bodies) {
        const res = await send(`${sgw.url}/up`, { method: 'POST', body, headers: { 'transfer-encoding': 'chunked' } });
        assert.deepEqual([res.status, res.body], [200, 'good']);
      }
      assert.deepEqual(good.deliveries, bodies);
    } finally {
      await sgw.close();
      await stubborn.close();
      await reg.close();
    }
  });

  it('retries an idempotent GET after the upstream hung up', async () => {
    const hangUp = await recordingUpstream('hang-up', 'hang-up');
    const good = await recordingUpstream('good', 'answer');
    servers.push(hangUp.server, good.server);
    await registerInstance(registry, 'idem', hangUp.server.url, [{ method: 'GET', path: '/idem' }]);
    await registerInstance(registry, 'idem', good.server.url, [{ method: 'GET', path: '/idem' }]);
    for (let i = 0; i < 4; i++) {
      const res = await send(`${gw.url}/idem`);
      assert.deepEqual([res.status, res.body], [200, 'good']);
    }
    assert.ok(hangUp.deliveries.length >= 1, 'the hang-up instance was tried');
  });
});
