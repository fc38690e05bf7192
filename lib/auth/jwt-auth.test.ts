import assert from 'node:assert/strict';
import { createPublicKey } from 'node:crypto';
import { describe, it } from 'node:test';
import { exportSPKI, generateKeyPair, SignJWT } from 'jose';
import { FakeClock } from '../clock.js';
import { isFleetgateError } from '../errors.js';
import { send } from '../test-support/http-test-kit.js';
import { authGateway, type Echo, fakeRequest, fakeResponse } from './auth.test-kit.js';
import { jwtAuth, jwtClaimsOf } from './jwt-auth.js';

const SECRET = 'a-shared-secret-of-at-least-32-bytes!';
const secretKey = new TextEncoder().encode(SECRET);
const NOW = 1_700_000_000_000;

async function hs256(claims: Record<string, unknown>, opts: { exp?: number; nbf?: number; alg?: string } = {}) {
  const jwt = new SignJWT(claims).setProtectedHeader({ alg: opts.alg ?? 'HS256' }).setIssuedAt(NOW / 1000);
  jwt.setExpirationTime(opts.exp ?? NOW / 1000 + 600);
  if (opts.nbf !== undefined) jwt.setNotBefore(opts.nbf);
  return jwt.sign(secretKey);
}

/** Runs the middleware on a fake request; resolves the status (0 when it called next) and the request. */
async function run(mw: ReturnType<typeof jwtAuth>, headers: Record<string, string>) {
  const req = fakeRequest(headers);
  const res = fakeResponse();
  const status = await new Promise<number>((resolve) => {
    mw(req, res.res, () => resolve(0));
    void res.done.then(() => resolve(res.status()));
  });
  const body = res.body() === '' ? undefined : JSON.parse(res.body());
  return { status, req, body, challenge: res.header('www-authenticate') as string | undefined };
}

describe('jwtAuth(): options', () => {
  const cases: [string, Record<string, unknown>][] = [
    ['no key source', {}],
    ['two key sources', { secret: SECRET, jwksUrl: 'http://127.0.0.1:1/jwks' }],
    ['alg none', { secret: SECRET, algorithms: ['none'] }],
    ['an empty allow-list', { secret: SECRET, algorithms: [] }],
    ['an RSA algorithm with a shared secret', { secret: SECRET, algorithms: ['RS256'] }],
    ['an HMAC algorithm with a JWKS', { jwksUrl: 'http://127.0.0.1:1/jwks', algorithms: ['HS256'] }],
    ['a short secret', { secret: 'short' }],
    ['a PEM that is not one', { publicKey: '-----BEGIN PUBLIC KEY-----\nnope\n-----END PUBLIC KEY-----' }],
    ['a JWKS URL that is not http', { jwksUrl: 'file:///etc/jwks.json' }],
    ['a negative skew', { secret: SECRET, clockSkewMs: -1 }],
    ['a tiny token limit', { secret: SECRET, maxTokenBytes: 10 }],
    ['a claim header on Authorization', { secret: SECRET, claimHeaders: { Authorization: 'sub' } }],
    ['a claim header that is not a token', { secret: SECRET, claimHeaders: { 'x user': 'sub' } }],
    ['a route requirement key that is not a pattern', { secret: SECRET, routeRequirements: { 'GET api': {} } }],
    ['roles that are not strings', { secret: SECRET, roles: [1] }],
    ['an unknown permissionAs', { secret: SECRET, permissionAs: 'claim' }],
  ];
  for (const [what, opts] of cases) {
    it(`refuses ${what} with ERR_FG_INVALID_CONFIG`, () => {
      assert.throws(
        () => jwtAuth(opts),
        (e) => isFleetgateError(e, 'ERR_FG_INVALID_CONFIG'),
      );
    });
  }
});

describe('jwtAuth(): shared secret', () => {
  const clock = new FakeClock(NOW);
  const mw = jwtAuth({ secret: SECRET, clock, issuer: 'https://idp.test/', audience: 'api' });
  const good = { sub: 'u-42', roles: ['beta', 'reader'], iss: 'https://idp.test/', aud: 'api' };

  it('passes a valid token: X-User-Id and X-User-Roles from claims, forged ones removed, the token relayed', async () => {
    const token = await hs256(good);
    const r = await run(mw, { authorization: `Bearer ${token}`, 'x-user-id': 'admin', 'X-User-Roles': 'admin' });
    assert.equal(r.status, 0);
    assert.equal(r.req.headers['x-user-id'], 'u-42');
    assert.equal(r.req.headers['x-user-roles'], 'beta,reader');
    assert.equal(r.req.headers.authorization, `Bearer ${token}`);
    assert.ok(!r.req.rawHeaders.includes('admin'));
    assert.equal(jwtClaimsOf(r.req)?.sub, 'u-42');
  });

  it('401 without a token, with the bare Bearer challenge', async () => {
    const r = await run(mw, {});
    assert.equal(r.status, 401);
    assert.equal(r.body.error.code, 'ERR_FG_UNAUTHENTICATED');
    assert.equal(r.body.error.details.reason, 'missing');
    assert.equal(r.challenge, 'Bearer realm="fleetgate"');
    const apiKey = await run(mw, { authorization: 'ApiKey abc' });
    assert.equal(apiKey.body.error.details.reason, 'missing', 'another scheme is not a bearer token');
  });

  it('refuses expired, not-yet-valid, wrong-issuer and wrong-audience tokens; the skew is tolerated', async () => {
    const cases: [string, Promise<string>, string][] = [
      ['expired', hs256(good, { exp: NOW / 1000 - 31 }), 'expired'],
      ['not yet valid', hs256(good, { nbf: NOW / 1000 + 31 }), 'not-yet-valid'],
      ['another issuer', hs256({ ...good, iss: 'https://evil.test/' }), 'issuer'],
      ['another audience', hs256({ ...good, aud: 'other' }), 'audience'],
      ['no audience', hs256({ sub: 'x', iss: good.iss }), 'audience'],
    ];
    for (const [what, token, reason] of cases) {
      const r = await run(mw, { authorization: `Bearer ${await token}` });
      assert.equal(r.status, 401, what);
      assert.equal(r.body.error.details.reason, reason, what);
      assert.match(r.challenge!, /^Bearer realm="fleetgate", error="invalid_token", error_description="/, what);
    }
    for (const token of [hs256(good, { exp: NOW / 1000 - 29 }), hs256(good, { nbf: NOW / 1000 + 29 })]) {
      assert.equal((await run(mw, { authorization: `Bearer ${await token}` })).status, 0, 'within 30 s of skew');
    }
  });

  it('refuses alg none, a tampered signature, malformed and oversized tokens: coded 401s', async () => {
    const header = Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url');
    const payload = Buffer.from(JSON.stringify(good)).toString('base64url');
    const token = await hs256(good);
    const [h, p, s] = token.split('.');
    const forgedPayload = Buffer.from(JSON.stringify({ ...good, sub: 'admin' })).toString('base64url');
    const cases: [string, string, string][] = [
      ['alg none', `Bearer ${header}.${payload}.`, 'algorithm'],
      ['a tampered payload', `Bearer ${h}.${forgedPayload}.${s}`, 'signature'],
      ['a tampered signature', `Bearer ${h}.${p}.${s!.slice(0, -4)}AAAA`, 'signature'],
      ['two parts', 'Bearer abc.def', 'malformed'],
      ['four parts', 'Bearer a.b.c.d', 'malformed'],
      ['not base64url', 'Bearer a+b.c/d.e=', 'malformed'],
      ['garbage JSON', `Bearer ${Buffer.from('{').toString('base64url')}.e30.AAAA`, 'malformed'],
      ['an empty bearer', 'Bearer', 'malformed'],
      ['an oversized token', `Bearer ${'a'.repeat(9000)}.b.c`, 'too-large'],
    ];
    for (const [what, authorization, reason] of cases) {
      const r = await run(mw, { authorization });
      assert.equal(r.status, 401, what);
      assert.equal(r.body.error.code, 'ERR_FG_UNAUTHENTICATED', what);
      assert.equal(r.body.error.details.reason, reason, what);
    }
  });

  it('global scopes (all) and roles (any): 403 with insufficient_scope', async () => {
    const strict = jwtAuth({ secret: SECRET, clock, scopes: ['comments:read'], roles: ['admin', 'beta'] });
    const ok = await run(strict, { authorization: `Bearer ${await hs256({ ...good, scope: 'comments:read x' })}` });
    assert.equal(ok.status, 0);
    const noScope = await run(strict, { authorization: `Bearer ${await hs256({ ...good, scope: 'x' })}` });
    assert.equal(noScope.status, 403);
    assert.equal(noScope.body.error.code, 'ERR_FG_FORBIDDEN');
    assert.deepEqual(noScope.body.error.details, { missing: { scopes: ['comments:read'] }, credential: 'u-42' });
    assert.equal(noScope.challenge, 'Bearer realm="fleetgate", error="insufficient_scope", scope="comments:read"');
    const noRole = await run(strict, {
      authorization: `Bearer ${await hs256({ ...good, roles: ['reader'], scope: ['comments:read'] })}`,
    });
    assert.equal(noRole.status, 403);
    assert.deepEqual(noRole.body.error.details.missing, { roles: ['admin', 'beta'] });
  });

  it('relayToken: false strips Authorization; custom claim headers with dotted paths; unsafe values dropped', async () => {
    const custom = jwtAuth({
      secret: SECRET,
      clock,
      relayToken: false,
      rolesClaim: 'realm_access.roles',
      claimHeaders: { 'X-Subject': 'sub', 'X-Tenant': 'org.id', 'X-Roles': 'realm_access.roles', 'X-Evil': 'evil' },
    });
    const token = await hs256({ sub: 'u-1', org: { id: 7 }, realm_access: { roles: ['ops'] }, evil: 'a\r\nb: c' });
    const r = await run(custom, { authorization: `Bearer ${token}`, 'x-evil': 'client' });
    assert.equal(r.status, 0);
    assert.equal(r.req.headers.authorization, undefined);
    assert.equal(r.req.headers['x-subject'], 'u-1');
    assert.equal(r.req.headers['x-tenant'], '7');
    assert.equal(r.req.headers['x-roles'], 'ops');
    assert.equal(r.req.headers['x-evil'], undefined, 'a claim with CR/LF is not copied, and the client value is gone');
    const none = jwtAuth({ secret: SECRET, clock, claimHeaders: false });
    const n = await run(none, { authorization: `Bearer ${token}`, 'x-user-id': 'client' });
    assert.equal(n.req.headers['x-user-id'], 'client', 'with claimHeaders: false nothing is set or removed');
  });

  it('a remembered token is refused once the clock passes its exp (the cache never outlives the token)', async () => {
    const c = new FakeClock(NOW);
    const cached = jwtAuth({ secret: SECRET, clock: c, clockSkewMs: 0 });
    const token = await hs256({ sub: 'u' }, { exp: NOW / 1000 + 5 });
    assert.equal((await run(cached, { authorization: `Bearer ${token}` })).status, 0);
    assert.equal((await run(cached, { authorization: `Bearer ${token}` })).status, 0, 'served from the cache');
    await c.advance(5000);
    const late = await run(cached, { authorization: `Bearer ${token}` });
    assert.equal(late.status, 401);
    assert.equal(late.body.error.details.reason, 'expired');
    const noCache = jwtAuth({ secret: SECRET, clock: c, verifiedCacheSize: 0 });
    const fresh = await hs256({ sub: 'u' }, { exp: NOW / 1000 + 600 });
    assert.equal((await run(noCache, { authorization: `Bearer ${fresh}` })).status, 0);
  });

  it('required: false lets requests without a token through; a presented token is still checked', async () => {
    const optional = jwtAuth({ secret: SECRET, clock, required: false });
    assert.equal((await run(optional, {})).status, 0);
    assert.equal((await run(optional, { authorization: 'Bearer a.b.c' })).status, 401);
  });
});

describe('jwtAuth(): PEM keys', () => {
  it('verifies RS256 with a PEM; an HS256 token signed with the public key as secret is refused (no alg confusion)', async () => {
    const clock = new FakeClock(NOW);
    const { publicKey, privateKey } = await generateKeyPair('RS256', { extractable: true });
    const pem = await exportSPKI(publicKey);
    const mw = jwtAuth({ publicKey: pem, clock });
    const rs = await new SignJWT({ sub: 'r' })
      .setProtectedHeader({ alg: 'RS256' })
      .setExpirationTime(NOW / 1000 + 60)
      .sign(privateKey);
    assert.equal((await run(mw, { authorization: `Bearer ${rs}` })).status, 0);
    const confused = await new SignJWT({ sub: 'r' })
      .setProtectedHeader({ alg: 'HS256' })
      .setExpirationTime(NOW / 1000 + 60)
      .sign(new TextEncoder().encode(pem));
    const r = await run(mw, { authorization: `Bearer ${confused}` });
    assert.equal(r.status, 401);
    assert.equal(r.body.error.details.reason, 'algorithm');
  });

  it('takes the algorithm from an EC key', async () => {
    const clock = new FakeClock(NOW);
    const { publicKey, privateKey } = await generateKeyPair('ES256', { extractable: true });
    const mw = jwtAuth({
      publicKey: createPublicKey(await exportSPKI(publicKey))
        .export({ type: 'spki', format: 'pem' })
        .toString(),
      clock,
    });
    const es = await new SignJWT({ sub: 'e' })
      .setProtectedHeader({ alg: 'ES256' })
      .setExpirationTime(NOW / 1000 + 60)
      .sign(privateKey);
    assert.equal((await run(mw, { authorization: `Bearer ${es}` })).status, 0);
  });
});

describe('jwtAuth(): per-route requirements on the resolved route', () => {
  it("a route's permission is a required scope; routeRequirements add roles; 403 otherwise", async () => {
    const clock = new FakeClock(NOW);
    await using gw = await authGateway((proxy) => [
      jwtAuth({
        secret: SECRET,
        clock,
        routes: proxy,
        required: false,
        routeRequirements: { 'POST /api/comments/*': { roles: ['writer'] } },
      }),
    ]);
    const token = async (claims: Record<string, unknown>) => `Bearer ${await hs256({ sub: 'u', ...claims })}`;
    const read = await send(`${gw.base}/api/comments/1`, {
      headers: { authorization: await token({ scope: 'comments:read' }) },
    });
    assert.equal(read.status, 200);
    const echo = JSON.parse(read.body) as Echo;
    assert.equal(echo.headers['x-user-id'], 'u');
    assert.ok(String(echo.headers.authorization).startsWith('Bearer '), 'token relayed');
    const noScope = await send(`${gw.base}/api/comments/1`, {
      headers: { authorization: await token({ scope: 'x' }) },
    });
    assert.equal(noScope.status, 403);
    const write = await send(`${gw.base}/api/comments/1`, {
      method: 'POST',
      headers: { authorization: await token({ scope: 'comments:write', roles: ['reader'] }) },
    });
    assert.equal(write.status, 403);
    assert.deepEqual(JSON.parse(write.body).error.details.missing, { roles: ['writer'] });
    const writer = await send(`${gw.base}/api/%63omments/1`, {
      method: 'POST',
      headers: { authorization: await token({ scope: 'comments:write', roles: ['writer'] }) },
    });
    assert.equal(writer.status, 200);
    const anonymous = await send(`${gw.base}/api/public/x`);
    assert.equal(anonymous.status, 200, 'a route without requirements needs no token when required: false');
    const gated = await send(`${gw.base}/api//comments/1`);
    assert.equal(gated.status, 401);
    assert.equal(gw.upstream.hits, 3);
  });
});
