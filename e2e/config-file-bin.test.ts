/**
 * Issue #15 through the `fleetgate` bin configured by a `fleetgate.yaml` (FLEETGATE_CONFIG): the
 * furt flow with API keys; JWTs from a local JWKS server (a new kid fetched once, then cached;
 * expired and wrong-audience tokens refused); beta testers by header and by claim to v2, everyone
 * else to v1; a route only the gateway named `public` serves; a reload by SIGHUP under load with
 * zero failed requests; an invalid reload refused with the old configuration still serving.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { exportJWK, generateKeyPair, type JWK, SignJWT } from 'jose';

type KeyLike = Awaited<ReturnType<typeof generateKeyPair>>['privateKey'];

import { startGateway } from './support/gateway-process.js';

interface Echo {
  upstream: string;
  path: string;
  headers: IncomingHttpHeaders;
}

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** An upstream that answers with its label, the path it got and the headers it saw. */
async function echoUpstream(label: string): Promise<{ url: string; server: Server }> {
  const server = createServer((req, res) => {
    const body = JSON.stringify({ upstream: label, path: req.url ?? '/', headers: req.headers } satisfies Echo);
    res.writeHead(200, { 'content-type': 'application/json' }).end(body);
  });
  return { url: await listen(server), server };
}

async function until(check: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`timed out waiting for ${what}`);
}

const READER_KEY = 'reader-key-0123456789';
const AUDIENCE = 'fleet-api';

function configText(jwksUrl: string, targets: { pub: string; int: string }, extraRoutes = ''): string {
  return `
gateway:
  name: public
jwt:
  jwksUrl: ${jwksUrl}
  audience: ${AUDIENCE}
  required: false
  permissionAs: false
  jwksMinRefreshInterval: 0ms
apiKeys:
  required: false
  keys:
    - { name: furt-reader, key: ${READER_KEY}, permissions: ["comments:read"] }
rateLimits:
  global: { limit: 100000, window: 1m }
cors:
  origin: ["https://app.example"]
  maxAgeSeconds: 600
routes:
  - { path: /pub/**, target: "${targets.pub}", stripPrefix: /pub, gateways: [public] }
  - { path: /int/**, target: "${targets.int}", gateways: [internal] }
${extraRoutes}`;
}

describe('fleetgate bin with fleetgate.yaml', () => {
  const dir = mkdtempSync(join(tmpdir(), 'fleetgate-config-'));
  const configPath = join(dir, 'fleetgate.yaml');
  const servers: Server[] = [];
  let jwksFetches = 0;
  let jwks: { keys: JWK[] } = { keys: [] };
  let jwksUrl = '';
  let keyOne: KeyLike;
  let keyTwo: KeyLike;
  const up: Record<string, string> = {};

  before(async () => {
    const one = await generateKeyPair('RS256');
    const two = await generateKeyPair('RS256');
    keyOne = one.privateKey;
    keyTwo = two.privateKey;
    const jwkOne = { ...(await exportJWK(one.publicKey)), kid: 'k1', alg: 'RS256', use: 'sig' };
    const jwkTwo = { ...(await exportJWK(two.publicKey)), kid: 'k2', alg: 'RS256', use: 'sig' };
    jwks = { keys: [jwkOne] };
    const jwksServer = createServer((_req, res) => {
      jwksFetches++;
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(jwks));
    });
    servers.push(jwksServer);
    jwksUrl = `${await listen(jwksServer)}/jwks`;
    // Rotation: k2 is published only when the test rotates (jwks.keys.push below).
    (jwks as { rotate?: JWK }).rotate = jwkTwo;
    for (const label of ['comments', 'shop-v1', 'shop-v2', 'pub', 'int', 'added']) {
      const u = await echoUpstream(label);
      servers.push(u.server);
      up[label] = u.url;
    }
  });

  after(() => {
    for (const s of servers) {
      s.closeAllConnections();
      s.close();
    }
    rmSync(dir, { recursive: true, force: true });
  });

  const token = (
    key: KeyLike,
    kid: string,
    claims: Record<string, unknown>,
    opts: { exp?: string | number; aud?: string } = {},
  ) =>
    new SignJWT(claims)
      .setProtectedHeader({ alg: 'RS256', kid })
      .setSubject('user-1')
      .setAudience(opts.aud ?? AUDIENCE)
      .setIssuedAt()
      .setExpirationTime(opts.exp ?? '5m')
      .sign(key);

  it('serves the whole front door from the file, reloads under load, refuses an invalid reload', async () => {
    writeFileSync(configPath, configText(jwksUrl, { pub: up.pub!, int: up.int! }));
    await using gw = await startGateway({ FLEETGATE_CONFIG: configPath });
    const get = async (path: string, headers: Record<string, string> = {}, method = 'GET') => {
      const res = await fetch(`${gw.url}${path}`, { method, headers });
      const text = await res.text();
      return {
        status: res.status,
        body: text.startsWith('{"upstream"') ? (JSON.parse(text) as Echo) : undefined,
        text,
      };
    };

    // Registrations: furt's comments service with permissions; shop v1 and v2 with beta predicates.
    const reg = async (body: Record<string, unknown>) =>
      assert.equal((await gw.register(body)).status, 200, JSON.stringify(body));
    await reg({
      service: 'comments',
      url: up.comments,
      routes: [
        { method: 'GET', path: '/api/comments/**', permission: 'comments:read' },
        { method: 'POST', path: '/api/comments/**', permission: 'comments:write' },
      ],
    });
    await reg({
      service: 'shop',
      instance_id: 'v1',
      version: 'v1',
      url: up['shop-v1'],
      routes: [{ method: 'GET', path: '/api/shop/**' }],
    });
    await reg({
      service: 'shop',
      instance_id: 'v2',
      version: 'v2',
      url: up['shop-v2'],
      routes: [
        { method: 'GET', path: '/api/shop/**', predicates: { headers: [{ name: 'x-beta', value: 'true' }] } },
        { method: 'GET', path: '/api/shop/**', predicates: { claims: [{ name: 'groups', value: 'beta-testers' }] } },
      ],
    });

    // The furt flow: comments:read reads, is refused writing; the service sees the key's name, never the key.
    const read = await get('/api/comments/7', { 'x-api-key': READER_KEY });
    assert.equal(read.status, 200, read.text);
    assert.equal(read.body?.headers['x-api-key-name'], 'furt-reader');
    assert.equal(read.body?.headers['x-api-key'], undefined);
    const write = await get('/api/comments/7', { 'x-api-key': READER_KEY }, 'POST');
    assert.equal(write.status, 403, write.text);
    assert.match(write.text, /ERR_FG_FORBIDDEN/);
    const anonymous = await get('/api/comments/7');
    assert.equal(anonymous.status, 401);

    // Beta testers by header and by JWT claim reach v2; everyone else v1.
    assert.equal((await get('/api/shop/cart')).body?.upstream, 'shop-v1');
    assert.equal((await get('/api/shop/cart', { 'x-beta': 'true' })).body?.upstream, 'shop-v2');
    const beta = await token(keyOne, 'k1', { groups: ['beta-testers'] });
    const plain = await token(keyOne, 'k1', { groups: ['staff'] });
    const viaClaim = await get('/api/shop/cart', { authorization: `Bearer ${beta}` });
    assert.equal(viaClaim.body?.upstream, 'shop-v2', viaClaim.text);
    assert.equal((await get('/api/shop/cart', { authorization: `Bearer ${plain}` })).body?.upstream, 'shop-v1');

    // JWT: expired and wrong-audience tokens refused; a new kid is fetched once, then cached.
    const expired = await token(keyOne, 'k1', {}, { exp: Math.floor(Date.now() / 1000) - 3600 });
    assert.equal((await get('/api/shop/cart', { authorization: `Bearer ${expired}` })).status, 401);
    const wrongAud = await token(keyOne, 'k1', {}, { aud: 'someone-else' });
    assert.equal((await get('/api/shop/cart', { authorization: `Bearer ${wrongAud}` })).status, 401);
    jwks.keys.push((jwks as { rotate?: JWK }).rotate!);
    const fetchesBefore = jwksFetches;
    const rotated = await token(keyTwo, 'k2', { groups: ['beta-testers'] });
    for (let i = 0; i < 5; i++) {
      const r = await get('/api/shop/cart', { authorization: `Bearer ${rotated}` });
      assert.equal(r.body?.upstream, 'shop-v2', r.text);
    }
    assert.equal(jwksFetches - fetchesBefore, 1, 'the new kid is fetched once, then served from the cache');

    // Security headers on proxied answers and on the gateway's own refusals; CORS preflight at the gateway.
    const proxied = await fetch(`${gw.url}/api/shop/cart`);
    await proxied.arrayBuffer();
    assert.equal(proxied.headers.get('x-content-type-options'), 'nosniff');
    assert.equal(proxied.headers.get('x-frame-options'), 'DENY');
    assert.equal(proxied.headers.get('strict-transport-security'), null, 'HSTS only on https');
    const refused = await fetch(`${gw.url}/api/comments/1`);
    await refused.arrayBuffer();
    assert.equal(refused.status, 401);
    assert.equal(refused.headers.get('x-content-type-options'), 'nosniff');
    const preflight = await fetch(`${gw.url}/api/comments/1`, {
      method: 'OPTIONS',
      headers: { origin: 'https://app.example', 'access-control-request-method': 'POST' },
    });
    await preflight.arrayBuffer();
    assert.ok(preflight.status === 204 || preflight.status === 200, String(preflight.status));
    assert.equal(preflight.headers.get('access-control-allow-origin'), 'https://app.example');
    assert.equal(preflight.headers.get('access-control-max-age'), '600');

    // Gateway targeting: this gateway is `public`.
    const pub = await get('/pub/x?y=1');
    assert.equal(pub.body?.upstream, 'pub');
    assert.equal(pub.body?.path, '/x?y=1');
    assert.equal((await get('/int/x')).status, 404);

    // SIGHUP reload under load: zero failed requests while a route is added.
    let failures = 0;
    let served = 0;
    let loading = true;
    const worker = async (): Promise<void> => {
      while (loading) {
        const r = await fetch(`${gw.url}/api/shop/cart`).catch(() => undefined);
        if (r?.status === 200) served++;
        else failures++;
        await r?.arrayBuffer().catch(() => undefined);
      }
    };
    const load = Promise.all([worker(), worker(), worker(), worker()]);
    await until(async () => served > 50, 20_000, 'load to start');
    writeFileSync(
      configPath,
      configText(jwksUrl, { pub: up.pub!, int: up.int! }, `  - { path: /added/**, target: "${up.added}" }\n`),
    );
    gw.child.kill('SIGHUP');
    await until(async () => (await get('/added/1')).body?.upstream === 'added', 20_000, 'the reloaded route');
    const atReload = served;
    await until(async () => served > atReload + 50, 20_000, 'load after the reload');
    loading = false;
    await load;
    assert.equal(failures, 0, `${failures} failed of ${served + failures}`);

    // An invalid file is refused with its line and key; the old configuration keeps serving.
    writeFileSync(
      configPath,
      configText(
        jwksUrl,
        { pub: up.pub!, int: up.int! },
        '  - { path: /evil/**, target: "http://127.0.0.1:9", predicates: { headers: [{ name: x, regex: "(a+)+$" }] } }\n',
      ),
    );
    gw.child.kill('SIGHUP');
    await until(async () => /config reload \(\S+\) refused/.test(gw.output()), 20_000, 'the refusal in the log');
    assert.match(gw.output(), /predicates\.headers\[0\]\.regex/);
    assert.equal((await get('/added/1')).body?.upstream, 'added');
    assert.equal((await get('/api/shop/cart', { 'x-beta': 'true' })).body?.upstream, 'shop-v2');
    assert.equal((await get('/evil/x')).status, 404);
    assert.equal(gw.running, true);
  });
});
