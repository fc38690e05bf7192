/**
 * `https:`/`wss:` instances behind a private CA (fixtures/tls): the proxy refuses them with 502
 * until `upstreamTls.ca` is given, presents a client certificate to upstreams that require mutual
 * TLS, proxies WebSocket upgrades to `wss:` instances with the same option, and the health
 * checker's default probe trusts the same CA. Bad TLS options fail at construction.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { after, before, describe, it, type TestContext } from 'node:test';
import WebSocket from 'ws';
import { TLS } from '../fixtures/tls-material.js';
import { HealthChecker } from '../lib/health/health-checker.js';
import type { ProbeResult } from '../lib/health/probes.js';
import { discoveryProxy } from '../lib/proxy/discovery-proxy.js';
import type { DiscoveryProxyOptions } from '../lib/proxy/proxy-options.js';
import type { Registry } from '../lib/registry/registry.js';
import {
  json,
  listen,
  memoryRegistry,
  registerInstance,
  send,
  type TestServer,
} from '../lib/test-support/http-test-kit.js';
import { type HttpsUpstream, httpsUpstream, wssUpstream } from './support/https-upstream.js';

/** Ends a wait on a WebSocket event after 5 s instead of hanging the run. */
const bounded = () => ({ signal: AbortSignal.timeout(5000) });

describe('upstream TLS', () => {
  let registry: Registry;
  let plain: HttpsUpstream;
  let mutual: HttpsUpstream;

  /** A gateway over the shared registry with these proxy options, closed when test `t` ends. */
  async function gateway(t: TestContext, options: Partial<DiscoveryProxyOptions>): Promise<TestServer> {
    const proxy = discoveryProxy({ registry, retries: { attempts: 0 }, ...options });
    const gw = await listen((req, res) => proxy(req, res));
    proxy.attach(gw.server);
    t.after(async () => {
      // The proxy first: it closes its WebSockets, which the server's close would wait for.
      await proxy.close();
      await gw.close();
    });
    return gw;
  }

  before(async () => {
    registry = await memoryRegistry();
    plain = await httpsUpstream(false);
    mutual = await httpsUpstream(true);
    await registerInstance(registry, 'sec', plain.url, [{ method: 'GET', path: '/sec/**' }]);
    await registerInstance(registry, 'mtls', mutual.url, [{ method: 'GET', path: '/mtls/**' }]);
  });

  after(async () => {
    await plain.close();
    await mutual.close();
    await registry.close();
  });

  it('answers 502 for an instance whose certificate it cannot verify, and nothing reaches it', async (t) => {
    const gw = await gateway(t, {});
    const res = await send(`${gw.url}/sec/a`);
    assert.equal(res.status, 502, res.body);
    assert.equal(json<{ error: { code: string } }>(res).error.code, 'ERR_FG_UPSTREAM_CONNECT');
    assert.equal(plain.hits, 0);
  });

  it('proxies to the instance once its CA is trusted', async (t) => {
    const gw = await gateway(t, { upstreamTls: { ca: TLS.ca } });
    for (let i = 0; i < 3; i++) {
      const res = await send(`${gw.url}/sec/a?i=${i}`);
      assert.equal(res.status, 200, res.body);
      assert.deepEqual(json(res), { url: `/sec/a?i=${i}`, secure: true });
    }
  });

  it('presents the client certificate to an upstream that requires mutual TLS', async (t) => {
    const without = await gateway(t, { upstreamTls: { ca: TLS.ca } });
    const refused = await send(`${without.url}/mtls/x`);
    assert.equal(refused.status, 502, refused.body);
    assert.equal(mutual.hits, 0, 'no request without a client certificate');

    const withCert = await gateway(t, { upstreamTls: { ca: TLS.ca, cert: TLS.clientCert, key: TLS.clientKey } });
    const res = await send(`${withCert.url}/mtls/x`);
    assert.equal(res.status, 200, res.body);
    assert.equal(mutual.clientCn, 'fleetgate test gateway');
  });

  it('proxies WebSocket upgrades to a wss: instance with the same option', async (t) => {
    const upstream = await wssUpstream((text) => `echo:${text}`);
    t.after(() => upstream.close());
    const id = await registerInstance(registry, 'live', upstream.url, [{ method: 'GET', path: '/live/**' }]);
    t.after(() => registry.deregister('live', id));
    const gw = await gateway(t, { upstreamTls: { ca: TLS.ca }, websocket: { messagePath: false } });
    const ws = new WebSocket(`ws://127.0.0.1:${gw.port}/live/feed`);
    await once(ws, 'open', bounded());
    ws.send('hello');
    const [reply] = (await once(ws, 'message', bounded())) as [Buffer];
    assert.equal(String(reply), 'echo:hello');
    ws.close();
    await once(ws, 'close', bounded());
  });

  it('opens message-routing links to a wss: instance with the same option', async (t) => {
    const upstream = await wssUpstream((text) => {
      const { id, data } = JSON.parse(text) as { id: number; data: unknown };
      return JSON.stringify({ id, data: { echo: data, secure: true } });
    }, '/ws');
    t.after(() => upstream.close());
    const id = await registerInstance(registry, 'chat', upstream.url, [
      { method: '*', path: '/chat/:room', protocol: 'ws', public: true },
    ]);
    t.after(() => registry.deregister('chat', id));
    const gw = await gateway(t, { upstreamTls: { ca: TLS.ca }, websocket: { messagesPerSecond: 0 } });
    const ws = new WebSocket(`ws://127.0.0.1:${gw.port}/ws`);
    await once(ws, 'open', bounded());
    ws.send(JSON.stringify({ path: '/chat/r1', id: 7, data: 'hi' }));
    const [reply] = (await once(ws, 'message', bounded())) as [Buffer];
    assert.deepEqual(JSON.parse(String(reply)), { id: 7, data: { echo: 'hi', secure: true } });
    ws.close();
    await once(ws, 'close', bounded());
  });

  it('the health checker probes an https: endpoint with the same CA', async () => {
    const probeOnce = async (options: ConstructorParameters<typeof HealthChecker>[0]): Promise<ProbeResult> => {
      await using checker = new HealthChecker(options);
      const probed = once(checker, 'probe', bounded()) as Promise<[{ result: ProbeResult }]>;
      checker.start();
      const [event] = await probed;
      return event.result;
    };
    const own = await memoryRegistry();
    try {
      await own.register({ service: 'sec', url: plain.url, routes: [], healthEndpoint: '/health' });
      const trusted = await probeOnce({ registry: own, random: () => 0, upstreamTls: { ca: TLS.ca } });
      assert.equal(trusted.healthy, true, trusted.error);
      const untrusted = await probeOnce({ registry: own, random: () => 0 });
      assert.equal(untrusted.healthy, false);
      assert.match(String(untrusted.error), /UNABLE_TO_VERIFY|CERT/i);
    } finally {
      await own.close();
    }
  });

  it('refuses bad TLS options at construction with ERR_FG_INVALID_CONFIG', () => {
    const bad: [string, unknown, RegExp][] = [
      ['cert without key', { cert: TLS.clientCert }, /cert and key go together/],
      ['unknown field', { ca: TLS.ca, verify: false }, /unknown field "verify"/],
      ['ca of the wrong type', { ca: 42 }, /ca must be/],
      ['PEM that does not load', { ca: TLS.ca, cert: 'not a certificate', key: 'not a key' }, /cannot be loaded/],
      ['rejectUnauthorized a string', { rejectUnauthorized: 'no' }, /rejectUnauthorized must be a boolean/],
    ];
    for (const [name, upstreamTls, message] of bad) {
      assert.throws(
        () => discoveryProxy({ registry, upstreamTls: upstreamTls as DiscoveryProxyOptions['upstreamTls'] }),
        (err: Error & { code?: string }) => err.code === 'ERR_FG_INVALID_CONFIG' && message.test(err.message),
        name,
      );
      assert.throws(
        () => new HealthChecker({ registry, upstreamTls: upstreamTls as DiscoveryProxyOptions['upstreamTls'] }),
        (err: Error & { code?: string }) => err.code === 'ERR_FG_INVALID_CONFIG',
        `${name} (health checker)`,
      );
    }
  });
});
