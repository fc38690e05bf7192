import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { authGateway } from '../auth/auth.test-kit.js';
import { isFleetgateError } from '../errors.js';
import { send } from '../test-support/http-test-kit.js';
import { cors } from './cors.js';

const APP = 'https://app.example';

function preflight(base: string, path: string, headers: Record<string, string>) {
  return send(`${base}${path}`, { method: 'OPTIONS', headers: { origin: APP, ...headers } });
}

describe('cors()', () => {
  it('answers an allowed preflight at the gateway (nothing reaches the service)', async () => {
    await using gw = await authGateway(() => [cors({ origin: [APP], credentials: true, maxAgeSeconds: 60 })]);
    const r = await preflight(gw.base, '/api/comments/1', {
      'access-control-request-method': 'POST',
      'access-control-request-headers': 'content-type, x-api-key',
    });
    assert.equal(r.status, 204);
    assert.equal(r.headers['access-control-allow-origin'], APP);
    assert.equal(r.headers['access-control-allow-methods'], 'GET, HEAD, PUT, PATCH, POST, DELETE');
    assert.equal(r.headers['access-control-allow-headers'], 'content-type, x-api-key');
    assert.equal(r.headers['access-control-allow-credentials'], 'true');
    assert.equal(r.headers['access-control-max-age'], '60');
    assert.match(String(r.headers.vary), /Origin/);
    assert.equal(gw.upstream.hits, 0);
  });

  it('refuses a preflight from another origin, for another method or headers: 403 ERR_FG_FORBIDDEN saying which', async () => {
    await using gw = await authGateway(() => [
      cors({
        origin: [APP, /^https:\/\/[a-z]+\.preview\.example$/],
        methods: ['GET', 'POST'],
        allowedHeaders: ['Content-Type'],
      }),
    ]);
    const cases: [Record<string, string>, Record<string, unknown>][] = [
      [{ origin: 'https://evil.example', 'access-control-request-method': 'GET' }, { origin: 'https://evil.example' }],
      [{ 'access-control-request-method': 'DELETE' }, { method: 'DELETE' }],
      [
        { 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type, x-secret' },
        { headers: ['x-secret'] },
      ],
    ];
    for (const [headers, missing] of cases) {
      const r = await preflight(gw.base, '/api/comments/1', headers);
      assert.equal(r.status, 403);
      const body = JSON.parse(r.body);
      assert.equal(body.error.code, 'ERR_FG_FORBIDDEN');
      assert.deepEqual(body.error.details.missing, missing);
      assert.equal(r.headers['access-control-allow-origin'], undefined);
    }
    const preview = await preflight(gw.base, '/api/comments/1', {
      origin: 'https://pr.preview.example',
      'access-control-request-method': 'POST',
    });
    assert.equal(preview.status, 204);
    assert.equal(preview.headers['access-control-allow-origin'], 'https://pr.preview.example');
    assert.equal(gw.upstream.hits, 0);
  });

  it('actual requests: headers for an allowed origin, none for others, nothing without Origin', async () => {
    await using gw = await authGateway(() => [cors({ origin: [APP], exposedHeaders: ['X-Request-Id'] })]);
    const ok = await send(`${gw.base}/api/public/x`, { headers: { origin: APP } });
    assert.equal(ok.status, 200);
    assert.equal(ok.headers['access-control-allow-origin'], APP);
    assert.equal(ok.headers['access-control-expose-headers'], 'X-Request-Id');
    const other = await send(`${gw.base}/api/public/x`, { headers: { origin: 'https://evil.example' } });
    assert.equal(other.status, 200);
    assert.equal(other.headers['access-control-allow-origin'], undefined);
    const none = await send(`${gw.base}/api/public/x`);
    assert.equal(none.headers['access-control-allow-origin'], undefined);
    const star = cors();
    await using open = await authGateway(() => [star]);
    const any = await send(`${open.base}/api/public/x`, { headers: { origin: 'https://anyone.example' } });
    assert.equal(any.headers['access-control-allow-origin'], '*');
    assert.equal(any.headers.vary, undefined);
  });

  it('per-route policies on the resolved route (the preflight resolves the announced method); false turns CORS off', async () => {
    await using gw = await authGateway((proxy) => [
      cors({
        origin: [APP],
        routes: proxy,
        routePolicies: {
          'GET /api/public/**': { origin: '*' },
          'POST /api/comments/*': false,
        },
      }),
    ]);
    const pub = await send(`${gw.base}/api/public/x`, { headers: { origin: 'https://anyone.example' } });
    assert.equal(pub.headers['access-control-allow-origin'], '*');
    const read = await preflight(gw.base, '/api//comments/1', { 'access-control-request-method': 'GET' });
    assert.equal(read.status, 204, 'GET on the comments route uses the global policy');
    const write = await preflight(gw.base, '/api/comments/1', { 'access-control-request-method': 'POST' });
    assert.equal(write.status, 403);
    assert.deepEqual(JSON.parse(write.body).error.details.missing, { route: true });
    assert.equal(gw.upstream.hits, 1);
  });

  it('refuses invalid policies', () => {
    for (const opts of [
      { credentials: true },
      { origin: 'https://app.example/path' },
      { origin: ['not an origin'] },
      { methods: ['GE T'] },
      { maxAgeSeconds: -1 },
      { preflightStatus: 302 },
      { routePolicies: { 'GET nope': {} } },
      { routePolicies: { '/x': { methods: ['a b'] } } },
    ]) {
      assert.throws(
        () => cors(opts as never),
        (e) => isFleetgateError(e, 'ERR_FG_INVALID_CONFIG'),
        JSON.stringify(opts),
      );
    }
  });
});
