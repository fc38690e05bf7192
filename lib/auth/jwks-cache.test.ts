import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type CryptoKey, exportJWK, generateKeyPair, type JWK, SignJWT } from 'jose';
import { FakeClock } from '../clock.js';
import { isFleetgateError } from '../errors.js';
import { listen, type TestServer } from '../test-support/http-test-kit.js';
import { fakeRequest, fakeResponse } from './auth.test-kit.js';
import { JwksCache } from './jwks-cache.js';
import { jwtAuth } from './jwt-auth.js';

const NOW = 1_700_000_000_000;

interface Issuer {
  kid: string;
  jwk: JWK;
  privateKey: CryptoKey;
}

async function issuer(kid: string): Promise<Issuer> {
  const { publicKey, privateKey } = await generateKeyPair('RS256', { extractable: true });
  return { kid, jwk: { ...(await exportJWK(publicKey)), kid, alg: 'RS256', use: 'sig' }, privateKey };
}

function sign(i: Issuer, kid = i.kid): Promise<string> {
  return new SignJWT({ sub: `user-of-${kid}` })
    .setProtectedHeader({ alg: 'RS256', kid })
    .setExpirationTime(NOW / 1000 + 600)
    .sign(i.privateKey);
}

/** A JWKS server on 127.0.0.1 whose document the test swaps; counts requests. */
async function jwksServer(): Promise<{ server: TestServer; url: string; set(body: unknown, status?: number): void }> {
  let body: unknown = { keys: [] };
  let status = 200;
  const server = await listen((_req, res) => {
    const text = typeof body === 'string' ? body : JSON.stringify(body);
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(text);
  });
  return {
    server,
    url: `${server.url}/.well-known/jwks.json`,
    set(b, s = 200) {
      body = b;
      status = s;
    },
  };
}

async function verify(mw: ReturnType<typeof jwtAuth>, token: string) {
  const res = fakeResponse();
  const outcome = await new Promise<number>((resolve) => {
    mw(fakeRequest({ authorization: `Bearer ${token}` }), res.res, () => resolve(0));
    void res.done.then(() => resolve(res.status()));
  });
  return { status: outcome, body: res.body() === '' ? undefined : JSON.parse(res.body()) };
}

describe('JwksCache through jwtAuth()', () => {
  it('fetches once, serves from the cache, fetches once more for a rotated kid, then caches it', async () => {
    const clock = new FakeClock(NOW);
    const k1 = await issuer('k1');
    const k2 = await issuer('k2');
    const jwks = await jwksServer();
    jwks.set({ keys: [k1.jwk] });
    const mw = jwtAuth({ jwksUrl: jwks.url, clock, jwksMinRefreshIntervalMs: 30_000 });
    try {
      for (let i = 0; i < 5; i++) assert.equal((await verify(mw, await sign(k1))).status, 0);
      assert.equal(jwks.server.hits, 1);
      jwks.set({ keys: [k1.jwk, k2.jwk] });
      await clock.advance(30_000);
      assert.equal((await verify(mw, await sign(k2))).status, 0, 'the new kid is fetched');
      assert.equal(jwks.server.hits, 2);
      for (let i = 0; i < 5; i++) assert.equal((await verify(mw, await sign(k2))).status, 0);
      assert.equal(jwks.server.hits, 2, 'then cached');
      assert.deepEqual(mw.jwks?.kids, ['k1', 'k2']);
    } finally {
      await jwks.server.close();
    }
  });

  it('an unknown-kid flood costs at most one fetch per interval; every token is a coded 401', async () => {
    const clock = new FakeClock(NOW);
    const k1 = await issuer('k1');
    const jwks = await jwksServer();
    jwks.set({ keys: [k1.jwk] });
    const mw = jwtAuth({ jwksUrl: jwks.url, clock, jwksMinRefreshIntervalMs: 30_000 });
    try {
      assert.equal((await verify(mw, await sign(k1))).status, 0);
      assert.equal(jwks.server.hits, 1);
      await clock.advance(30_000);
      const forged = await Promise.all(Array.from({ length: 200 }, (_, i) => sign(k1, `flood-${i}`)));
      const results = await Promise.all(forged.map((t) => verify(mw, t)));
      for (const r of results) {
        assert.equal(r.status, 401);
        assert.equal(r.body.error.code, 'ERR_FG_UNAUTHENTICATED');
        assert.equal(r.body.error.details.reason, 'unknown-kid');
      }
      assert.equal(jwks.server.hits, 2, 'one fetch for 200 unknown kids');
      await clock.advance(10_000);
      await verify(mw, await sign(k1, 'again'));
      assert.equal(jwks.server.hits, 2, 'none within the interval');
      await clock.advance(20_000);
      await verify(mw, await sign(k1, 'later'));
      assert.equal(jwks.server.hits, 3, 'one after it');
      assert.equal((await verify(mw, await sign(k1))).status, 0, 'known keys keep working');
    } finally {
      await jwks.server.close();
    }
  });

  it('503 ERR_FG_AUTH_UNAVAILABLE while no keys could ever be fetched; stale keys are kept when a refetch fails', async () => {
    const clock = new FakeClock(NOW);
    const k1 = await issuer('k1');
    const jwks = await jwksServer();
    jwks.set('oops', 500);
    const mw = jwtAuth({ jwksUrl: jwks.url, clock, jwksMinRefreshIntervalMs: 1000, jwksMaxAgeMs: 5000 });
    try {
      const down = await verify(mw, await sign(k1));
      assert.equal(down.status, 503);
      assert.equal(down.body.error.code, 'ERR_FG_AUTH_UNAVAILABLE');
      const again = await verify(mw, await sign(k1));
      assert.equal(again.status, 503);
      assert.equal(jwks.server.hits, 1, 'no second fetch within the interval');
      await clock.advance(1000);
      jwks.set({ keys: [k1.jwk] });
      assert.equal((await verify(mw, await sign(k1))).status, 0);
      jwks.set('not json', 200);
      await clock.advance(6000);
      assert.equal((await verify(mw, await sign(k1))).status, 0, 'served from the stale set');
      await mw.jwks!.refresh();
      assert.equal(jwks.server.hits, 3, 'the background refresh ran and failed');
      assert.equal((await verify(mw, await sign(k1))).status, 0, 'and the old keys stay');
    } finally {
      await jwks.server.close();
    }
  });

  it('bounds a fetch: oversized documents, non-JWKS bodies and encryption keys are not used', async () => {
    const k1 = await issuer('k1');
    const jwks = await jwksServer();
    try {
      jwks.set({ keys: [k1.jwk], padding: 'x'.repeat(2000) });
      const small = new JwksCache(jwks.url, { maxBytes: 1000, minRefreshIntervalMs: 0 });
      await small.refresh();
      assert.deepEqual(small.kids, []);
      jwks.set({ nokeys: true });
      await small.refresh();
      assert.deepEqual(small.kids, []);
      jwks.set({ keys: [{ ...k1.jwk, use: 'enc' }] });
      const enc = new JwksCache(jwks.url, { minRefreshIntervalMs: 0 });
      await enc.refresh();
      assert.deepEqual(enc.kids, []);
      assert.throws(
        () => new JwksCache('not a url'),
        (e) => isFleetgateError(e, 'ERR_FG_INVALID_CONFIG'),
      );
    } finally {
      await jwks.server.close();
    }
  });
});
