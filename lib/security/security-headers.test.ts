import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { authGateway } from '../auth/auth.test-kit.js';
import { isFleetgateError } from '../errors.js';
import { listen, send } from '../test-support/http-test-kit.js';
import { SECURITY_HEADERS_DEFAULTS, securityHeaders } from './security-headers.js';

const DEFAULTS: Record<string, string> = {
  'content-security-policy': "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
  'x-frame-options': 'DENY',
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
};

describe('securityHeaders()', () => {
  it('stamps proxied answers and gateway errors; an upstream header of its own wins', async () => {
    const own = await listen((_req, res) => {
      res.writeHead(200, { 'content-security-policy': "default-src 'self'", 'x-frame-options': 'SAMEORIGIN' });
      res.end('html');
    });
    await using gw = await authGateway(() => [securityHeaders()], [{ path: '/own/**', target: own.url }]);
    try {
      const proxied = await send(`${gw.base}/api/public/x`);
      assert.equal(proxied.status, 200);
      for (const [name, value] of Object.entries(DEFAULTS)) assert.equal(proxied.headers[name], value, name);
      assert.equal(proxied.headers['strict-transport-security'], undefined, 'no HSTS over plain HTTP');
      const error = await send(`${gw.base}/nothing/here`);
      assert.equal(error.status, 404);
      for (const [name, value] of Object.entries(DEFAULTS)) assert.equal(error.headers[name], value, name);
      const upstreamOwn = await send(`${gw.base}/own/page`);
      assert.equal(upstreamOwn.headers['content-security-policy'], "default-src 'self'");
      assert.equal(upstreamOwn.headers['x-frame-options'], 'SAMEORIGIN');
      assert.equal(upstreamOwn.headers['x-content-type-options'], 'nosniff');
    } finally {
      await own.close();
    }
  });

  it('sends HSTS only on HTTPS: X-Forwarded-Proto counts from a trusted proxy only', async () => {
    await using trusted = await authGateway(() => [
      securityHeaders({ trustProxy: ['loopback'], hsts: { preload: true } }),
    ]);
    const https = await send(`${trusted.base}/api/public/x`, { headers: { 'x-forwarded-proto': 'https' } });
    assert.equal(https.headers['strict-transport-security'], 'max-age=31536000; includeSubDomains; preload');
    const http = await send(`${trusted.base}/api/public/x`, { headers: { 'x-forwarded-proto': 'http' } });
    assert.equal(http.headers['strict-transport-security'], undefined);
    await using untrusted = await authGateway(() => [securityHeaders()]);
    const forged = await send(`${untrusted.base}/api/public/x`, { headers: { 'x-forwarded-proto': 'https' } });
    assert.equal(forged.headers['strict-transport-security'], undefined, 'a client cannot claim HTTPS');
  });

  it('every header can be changed or turned off, extra headers added, X-Powered-By removed', async () => {
    await using gw = await authGateway(() => [
      (_req, res, next) => {
        res.setHeader('x-powered-by', 'Express');
        next();
      },
      securityHeaders({
        contentSecurityPolicy: false,
        frameOptions: 'SAMEORIGIN',
        noSniff: false,
        referrerPolicy: 'strict-origin',
        crossOriginOpenerPolicy: false,
        crossOriginResourcePolicy: 'cross-origin',
        headers: { 'Permissions-Policy': 'geolocation=()', 'x-frame-options': false },
      }),
    ]);
    const r = await send(`${gw.base}/api/public/x`);
    assert.equal(r.headers['content-security-policy'], undefined);
    assert.equal(r.headers['x-frame-options'], undefined);
    assert.equal(r.headers['x-content-type-options'], undefined);
    assert.equal(r.headers['referrer-policy'], 'strict-origin');
    assert.equal(r.headers['cross-origin-opener-policy'], undefined);
    assert.equal(r.headers['cross-origin-resource-policy'], 'cross-origin');
    assert.equal(r.headers['permissions-policy'], 'geolocation=()');
    assert.equal(r.headers['x-powered-by'], undefined);
  });

  it('refuses invalid options', () => {
    for (const opts of [
      { frameOptions: 'ALLOW' },
      { referrerPolicy: 'a\r\nb' },
      { hsts: { maxAgeSeconds: -1 } },
      { headers: { 'bad name': 'x' } },
    ]) {
      assert.throws(
        () => securityHeaders(opts as never),
        (e) => isFleetgateError(e, 'ERR_FG_INVALID_CONFIG'),
      );
    }
    assert.ok(Object.isFrozen(SECURITY_HEADERS_DEFAULTS));
  });
});
