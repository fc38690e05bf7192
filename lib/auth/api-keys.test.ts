import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { FakeClock } from '../clock.js';
import { isFleetgateError } from '../errors.js';
import { discoveryProxy } from '../proxy/discovery-proxy.js';
import { send } from '../test-support/http-test-kit.js';
import { hashApiKey } from './api-key-spec.js';
import { apiKeyOf, apiKeys } from './api-keys.js';
import { authGateway, type Echo, fakeRequest, fakeResponse } from './auth.test-kit.js';
import type { KeyStore } from './key-store.js';

const READER = 'reader-key-0123456789abcdef';
const WRITER = 'writer-key-0123456789abcdef';
const ADMIN = 'admin-key-0123456789abcdefgh';
const KEYS = [
  { name: 'reader', key: READER, permissions: ['comments:read'], rateLimitClass: 'free' },
  { name: 'writer', sha256: hashApiKey(WRITER), permissions: ['comments:*'] },
  { name: 'admin', key: ADMIN, permissions: ['*'] },
];

function body(r: { body: string }): { error: { code: string; message: string; details?: Record<string, unknown> } } {
  return JSON.parse(r.body);
}

describe('apiKeys(): options', () => {
  const cases: [string, Record<string, unknown>][] = [
    ['no keys, file or store', {}],
    ['a short key', { keys: [{ name: 'a', key: 'short' }] }],
    ['a key with a space', { keys: [{ name: 'a', key: 'has a space in it 123' }] }],
    ['key and sha256', { keys: [{ name: 'a', key: READER, sha256: hashApiKey(READER) }] }],
    ['a bad sha256', { keys: [{ name: 'a', sha256: 'abc' }] }],
    ['a name used twice', { keys: [KEYS[0], { ...KEYS[0], key: ADMIN }] }],
    ['a name that is not a header value', { keys: [{ name: 'a b', key: READER }] }],
    ['an unknown field', { keys: [{ name: 'a', key: READER, perms: [] }] }],
    ['an invalid expiry', { keys: [{ name: 'a', key: READER, expires: 'someday' }] }],
    ['an invalid header', { keys: KEYS, header: 'x api key' }],
    ['no header and no scheme', { keys: KEYS, header: false, authorizationScheme: false }],
    ['an invalid scheme', { keys: KEYS, authorizationScheme: 'Api Key' }],
    ['an invalid nameHeader', { keys: KEYS, nameHeader: 'a:b' }],
    ['a zero store timeout', { keys: KEYS, storeTimeoutMs: 0 }],
    ['a quote in the realm', { keys: KEYS, realm: 'a"b' }],
    ['a failure budget of 0', { keys: KEYS, failedAttempts: { limit: 0, window: '1m' } }],
    ['a missing key file', { file: '/nonexistent/keys.yaml' }],
  ];
  for (const [what, opts] of cases) {
    it(`refuses ${what} with ERR_FG_INVALID_CONFIG`, () => {
      assert.throws(
        () => apiKeys(opts),
        (e) => isFleetgateError(e, 'ERR_FG_INVALID_CONFIG'),
      );
    });
  }

  it('reads keys from a YAML file and names the file and entry when one is bad', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fg-keys-'));
    const good = join(dir, 'keys.yaml');
    writeFileSync(
      good,
      `keys:\n  - name: reader\n    sha256: ${hashApiKey(READER)}\n    permissions: [comments:read]\n`,
    );
    await using gw = await authGateway((proxy) => [apiKeys({ file: good, routes: proxy })]);
    const ok = await send(`${gw.base}/api/comments/1`, { headers: { 'x-api-key': READER } });
    assert.equal(ok.status, 200);
    const bad = join(dir, 'bad.yaml');
    writeFileSync(bad, 'keys:\n  - name: reader\n    key: tooshort\n');
    assert.throws(
      () => apiKeys({ file: bad }),
      (e) => isFleetgateError(e, 'ERR_FG_INVALID_CONFIG') && /bad\.yaml: keys\.0\.key/.test(e.message),
    );
  });
});

describe('apiKeys(): the furt flow', () => {
  it('401 without a key, with WWW-Authenticate; nothing reaches the upstream', async () => {
    await using gw = await authGateway((proxy) => [apiKeys({ keys: KEYS, routes: proxy })]);
    const r = await send(`${gw.base}/api/comments/1`);
    assert.equal(r.status, 401);
    assert.equal(r.headers['www-authenticate'], 'ApiKey realm="fleetgate"');
    assert.equal(body(r).error.code, 'ERR_FG_UNAUTHENTICATED');
    assert.equal(body(r).error.details?.reason, 'missing');
    assert.equal(gw.upstream.hits, 0);
  });

  it('a comments:read key reads; the upstream sees X-Api-Key-Name and never the key', async () => {
    await using gw = await authGateway((proxy) => [apiKeys({ keys: KEYS, routes: proxy })]);
    const r = await send(`${gw.base}/api/comments/7`, {
      headers: { 'x-api-key': READER, 'x-api-key-name': 'admin' },
    });
    assert.equal(r.status, 200);
    const echo = JSON.parse(r.body) as Echo;
    assert.equal(echo.headers['x-api-key-name'], 'reader');
    assert.equal(echo.headers['x-api-key'], undefined);
    assert.ok(!r.body.includes(READER), 'the key never reaches the upstream');
  });

  it('the same key is refused on comments:write with 403 ERR_FG_FORBIDDEN naming the permission', async () => {
    await using gw = await authGateway((proxy) => [apiKeys({ keys: KEYS, routes: proxy })]);
    const r = await send(`${gw.base}/api/comments/7`, { method: 'POST', headers: { 'x-api-key': READER } });
    assert.equal(r.status, 403);
    assert.equal(body(r).error.code, 'ERR_FG_FORBIDDEN');
    assert.deepEqual(body(r).error.details, { missing: { permission: 'comments:write' }, credential: 'reader' });
    assert.equal(r.headers['www-authenticate'], undefined);
    assert.equal(gw.upstream.hits, 0);
    const w = await send(`${gw.base}/api/comments/7`, { method: 'POST', headers: { 'x-api-key': WRITER } });
    assert.equal(w.status, 200, 'comments:* grants comments:write (key given as sha256)');
    const a = await send(`${gw.base}/api/comments/7`, { method: 'POST', headers: { 'x-api-key': ADMIN } });
    assert.equal(a.status, 200, '* grants everything');
  });

  it('enforces the permission of a static route', async () => {
    await using gw = await authGateway(
      (proxy) => [apiKeys({ keys: KEYS, routes: proxy })],
      [{ method: 'GET', path: '/static/admin/**', target: 'upstream', permission: 'admin:read' }],
    );
    const r = await send(`${gw.base}/static/admin/x`, { headers: { 'x-api-key': WRITER } });
    assert.equal(r.status, 403);
    assert.deepEqual(body(r).error.details?.missing, { permission: 'admin:read' });
    const ok = await send(`${gw.base}/static/admin/x`, { headers: { 'x-api-key': ADMIN } });
    assert.equal(ok.status, 200);
  });

  it('judges every spelling of a path by the route the proxy uses (normalised once)', async () => {
    await using gw = await authGateway((proxy) => [apiKeys({ keys: KEYS, routes: proxy, required: false })]);
    for (const path of ['/api//comments/7', '/api/./comments/7', '/api/%63omments/7', '/api/public/../comments/7']) {
      const r = await send(`${gw.base}${path}`, { method: 'POST', headers: { 'x-api-key': READER } });
      assert.equal(r.status, 403, path);
      const none = await send(`${gw.base}${path}`);
      assert.equal(none.status, 401, path);
    }
    assert.equal(gw.upstream.hits, 0);
  });

  it('reads Authorization: ApiKey and strips it; a Bearer header is not an API key', async () => {
    await using gw = await authGateway((proxy) => [apiKeys({ keys: KEYS, routes: proxy })]);
    const r = await send(`${gw.base}/api/comments/7`, { headers: { authorization: `apikey ${READER}` } });
    assert.equal(r.status, 200);
    const echo = JSON.parse(r.body) as Echo;
    assert.equal(echo.headers.authorization, undefined);
    assert.equal(echo.headers['x-api-key-name'], 'reader');
    const bearer = await send(`${gw.base}/api/comments/7`, { headers: { authorization: `Bearer ${READER}` } });
    assert.equal(bearer.status, 401);
    assert.equal(body(bearer).error.details?.reason, 'missing');
  });

  it('custom header, scheme and name header; stripCredential: false forwards the key', async () => {
    await using gw = await authGateway((proxy) => [
      apiKeys({
        keys: KEYS,
        routes: proxy,
        header: 'X-Key',
        authorizationScheme: 'Token',
        nameHeader: 'X-Caller',
        stripCredential: false,
        realm: 'comments',
      }),
    ]);
    const r = await send(`${gw.base}/api/comments/7`, { headers: { 'x-key': READER } });
    const echo = JSON.parse(r.body) as Echo;
    assert.equal(echo.headers['x-caller'], 'reader');
    assert.equal(echo.headers['x-key'], READER);
    const t = await send(`${gw.base}/api/comments/7`, { headers: { authorization: `Token ${READER}` } });
    assert.equal(t.status, 200);
    const old = await send(`${gw.base}/api/comments/7`, { headers: { 'x-api-key': READER } });
    assert.equal(old.status, 401);
    assert.equal(old.headers['www-authenticate'], 'Token realm="comments"');
  });

  it('required: false lets a route without a permission through without a key, forged names removed', async () => {
    await using gw = await authGateway((proxy) => [apiKeys({ keys: KEYS, routes: proxy, required: false })]);
    const r = await send(`${gw.base}/api/public/x`, { headers: { 'x-api-key-name': 'admin' } });
    assert.equal(r.status, 200);
    assert.equal((JSON.parse(r.body) as Echo).headers['x-api-key-name'], undefined);
    const bad = await send(`${gw.base}/api/public/x`, { headers: { 'x-api-key': 'not-a-known-key-at-all' } });
    assert.equal(bad.status, 401, 'a key that is presented is checked everywhere');
    const gated = await send(`${gw.base}/api/comments/1`);
    assert.equal(gated.status, 401);
  });

  it('without routes only the key is checked', async () => {
    await using gw = await authGateway(() => [apiKeys({ keys: KEYS })]);
    const r = await send(`${gw.base}/api/comments/7`, { method: 'POST', headers: { 'x-api-key': READER } });
    assert.equal(r.status, 200);
  });

  it('503 ERR_FG_AUTH_UNAVAILABLE while the route table does not exist yet', async () => {
    const proxy = discoveryProxy();
    const mw = apiKeys({ keys: KEYS, routes: proxy });
    const res = fakeResponse();
    mw(fakeRequest({ 'x-api-key': READER }), res.res, () => assert.fail('must not pass'));
    assert.equal(res.status(), 503);
    assert.equal(JSON.parse(res.body()).error.code, 'ERR_FG_AUTH_UNAVAILABLE');
    await proxy.close();
  });

  it('exposes the key to later middlewares with apiKeyOf()', async () => {
    const mw = apiKeys({ keys: KEYS });
    const req = fakeRequest({ 'x-api-key': READER });
    let passed = false;
    mw(req, fakeResponse().res, () => {
      passed = true;
    });
    assert.ok(passed);
    assert.deepEqual(apiKeyOf(req), { name: 'reader', permissions: ['comments:read'], rateLimitClass: 'free' });
    assert.equal(apiKeyOf(fakeRequest({})), undefined);
  });
});

describe('apiKeys(): refusals', () => {
  it('malformed keys: spaces, control characters, two keys, two ways, empty, oversized: 401, bounded', async () => {
    await using gw = await authGateway((proxy) => [apiKeys({ keys: KEYS, routes: proxy, failedAttempts: false })]);
    const cases: [string, Record<string, string | string[]>, string][] = [
      ['a space', { 'x-api-key': 'abc def ghi jkl mno' }, 'malformed'],
      ['a tab', { 'x-api-key': `${READER}\tx` }, 'malformed'],
      ['non-ASCII', { 'x-api-key': `${READER}é` }, 'malformed'],
      ['two headers', { 'x-api-key': [READER, READER] }, 'malformed'],
      ['header and Authorization', { 'x-api-key': READER, authorization: `ApiKey ${READER}` }, 'malformed'],
      ['an empty ApiKey', { authorization: 'ApiKey  ' }, 'malformed'],
      ['an oversized key', { 'x-api-key': 'k'.repeat(4000) }, 'too-large'],
      ['an unknown key', { 'x-api-key': 'unknown-key-0123456789abcdef' }, 'unknown'],
    ];
    for (const [what, headers, reason] of cases) {
      const r = await send(`${gw.base}/api/comments/1`, { headers });
      assert.equal(r.status, 401, what);
      assert.equal(body(r).error.code, 'ERR_FG_UNAUTHENTICATED', what);
      assert.equal(body(r).error.details?.reason, reason, what);
      assert.ok(!r.body.includes(READER), `${what}: the key is not echoed`);
    }
    assert.equal(gw.upstream.hits, 0);
  });

  it('an expired key is refused from its expiry on (injected clock)', async () => {
    const clock = new FakeClock(Date.parse('2026-06-01T00:00:00Z'));
    const mw = apiKeys({
      keys: [{ name: 'temp', key: READER, permissions: ['*'], expires: '2026-06-02T00:00:00Z' }],
      clock,
      failedAttempts: false,
    });
    const before = fakeResponse();
    let passed = 0;
    mw(fakeRequest({ 'x-api-key': READER }), before.res, () => passed++);
    assert.equal(passed, 1);
    await clock.advance(86_400_000);
    const after = fakeResponse();
    mw(fakeRequest({ 'x-api-key': READER }), after.res, () => passed++);
    assert.equal(passed, 1);
    assert.equal(after.status(), 401);
    assert.equal(JSON.parse(after.body()).error.details.reason, 'expired');
  });

  it('counts failed attempts per client address: 429 once the budget is spent, even for a valid key, until it refills', async () => {
    const clock = new FakeClock();
    const mw = apiKeys({ keys: KEYS, clock, failedAttempts: { capacity: 3, refillPerSecond: 0.1 } });
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) {
      const res = fakeResponse();
      mw(fakeRequest({ 'x-api-key': `wrong-key-${i}-0123456789abcdef` }), res.res, () => assert.fail());
      await res.done;
      statuses.push(res.status());
    }
    assert.deepEqual(statuses, [401, 401, 401, 429, 429]);
    const blocked = fakeResponse();
    mw(fakeRequest({ 'x-api-key': READER }), blocked.res, () => assert.fail('a blocked address is refused'));
    await blocked.done;
    assert.equal(blocked.status(), 429);
    assert.equal(JSON.parse(blocked.body()).error.code, 'ERR_FG_RATE_LIMITED');
    const other = fakeResponse();
    let passed = 0;
    mw(fakeRequest({ 'x-api-key': READER }, '10.9.9.9'), other.res, () => passed++);
    assert.equal(passed, 1, 'another address is not affected');
    await clock.advance(10_000);
    mw(fakeRequest({ 'x-api-key': READER }), fakeResponse().res, () => passed++);
    assert.equal(passed, 2, 'refilled after 10 s');
    const missing = fakeResponse();
    mw(fakeRequest({}), missing.res, () => assert.fail());
    assert.equal(missing.status(), 401, 'requests without a key are not counted or blocked');
    await mw.close();
  });

  it('an async store: answers, times out with 503, fails with 503', async () => {
    const clock = new FakeClock();
    let mode: 'answer' | 'hang' | 'throw' = 'answer';
    const record = {
      name: 'remote',
      sha256: hashApiKey(READER),
      permissions: [],
      expiresAt: undefined,
      rateLimitClass: undefined,
    };
    const store: KeyStore = {
      name: 'test',
      lookup: (sha) =>
        mode === 'answer'
          ? Promise.resolve(sha === record.sha256 ? record : undefined)
          : mode === 'hang'
            ? new Promise(() => {})
            : Promise.reject(new Error('down')),
      close: async () => {},
    };
    const mw = apiKeys({ store, clock, storeTimeoutMs: 200 });
    const req = fakeRequest({ 'x-api-key': READER });
    await new Promise<void>((resolve) => mw(req, fakeResponse().res, () => resolve()));
    assert.equal(req.headers['x-api-key-name'], 'remote');
    mode = 'hang';
    const slow = fakeResponse();
    mw(fakeRequest({ 'x-api-key': READER }), slow.res, () => assert.fail());
    await clock.advance(200);
    assert.equal(slow.status(), 503);
    assert.equal(JSON.parse(slow.body()).error.code, 'ERR_FG_AUTH_UNAVAILABLE');
    mode = 'throw';
    const down = fakeResponse();
    mw(fakeRequest({ 'x-api-key': READER }), down.res, () => assert.fail());
    await down.done;
    assert.equal(down.status(), 503);
  });
});
