/**
 * The README's "Who may pass" example, run as written in a child (only the port and the import
 * paths are pointed at this checkout): the furt flow with API keys, a JWT role on a route,
 * security headers and a CORS preflight answered by the gateway.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { SignJWT } from 'jose';
import { readmeBlock, runReadmeSnippet } from './support/readme-snippet.js';

const MOBILE_KEY = 'mobile-key-0123456789abcdef';
const JWT_SECRET = 'a-shared-secret-of-at-least-32-bytes!';

describe('README: Who may pass, verbatim', () => {
  let upstream: Server;
  let upstreamUrl: string;
  let hits = 0;
  before(async () => {
    upstream = createServer((req, res) => {
      hits++;
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ path: req.url, headers: req.headers }));
    });
    await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
    upstreamUrl = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;
  });
  after(async () => {
    upstream.closeAllConnections();
    await new Promise((resolve) => upstream.close(resolve));
  });

  it('keys, permissions, a JWT role, security headers and CORS', async () => {
    await using app = await runReadmeSnippet(readmeBlock('Who may pass: API keys, JWT, security headers, CORS'), {
      env: { MOBILE_KEY, JWT_SECRET },
    });
    const registered = await fetch(`${app.url}/internal/register-service`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        service: 'sagjan',
        url: upstreamUrl,
        routes: [
          { method: 'GET', path: '/api/comments/*', permission: 'comments:read' },
          { method: 'POST', path: '/api/comments/*', permission: 'comments:write' },
          { method: 'DELETE', path: '/api/comments/*' },
        ],
      }),
    });
    assert.equal(registered.status, 200, app.output());

    const anonymous = await fetch(`${app.url}/api/comments/1`);
    assert.equal(anonymous.status, 401);
    assert.match(anonymous.headers.get('www-authenticate') ?? '', /^ApiKey realm="fleetgate"/);
    assert.equal(((await anonymous.json()) as { error: { code: string } }).error.code, 'ERR_FG_UNAUTHENTICATED');
    assert.equal(anonymous.headers.get('x-content-type-options'), 'nosniff');
    assert.equal(anonymous.headers.get('x-frame-options'), 'DENY');

    const read = await fetch(`${app.url}/api/comments/1`, { headers: { 'x-api-key': MOBILE_KEY } });
    assert.equal(read.status, 200, app.output());
    const seen = (await read.json()) as { headers: Record<string, string> };
    assert.equal(seen.headers['x-api-key-name'], 'mobile-app');
    assert.equal(seen.headers['x-api-key'], undefined);
    assert.match(read.headers.get('content-security-policy') ?? '', /default-src 'none'/);

    const write = await fetch(`${app.url}/api/comments/1`, { method: 'POST', headers: { 'x-api-key': MOBILE_KEY } });
    assert.equal(write.status, 403);
    assert.equal(((await write.json()) as { error: { code: string } }).error.code, 'ERR_FG_FORBIDDEN');

    const secret = new TextEncoder().encode(JWT_SECRET);
    const token = (roles: string[]) =>
      new SignJWT({ sub: 'u-7', roles, aud: 'comments-api' })
        .setProtectedHeader({ alg: 'HS256' })
        .setExpirationTime('5m')
        .sign(secret);
    const user = await fetch(`${app.url}/api/comments/1`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${await token(['reader'])}` },
    });
    assert.equal(user.status, 403);
    const moderator = await fetch(`${app.url}/api/comments/1`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${await token(['moderator'])}` },
    });
    assert.equal(moderator.status, 200, app.output());
    const relayed = (await moderator.json()) as { headers: Record<string, string> };
    assert.equal(relayed.headers['x-user-id'], 'u-7');
    assert.ok(relayed.headers.authorization?.startsWith('Bearer '));

    const before = hits;
    const preflight = await fetch(`${app.url}/api/comments/1`, {
      method: 'OPTIONS',
      headers: { origin: 'https://app.example', 'access-control-request-method': 'DELETE' },
    });
    assert.equal(preflight.status, 204);
    assert.equal(preflight.headers.get('access-control-allow-origin'), 'https://app.example');
    assert.equal(hits, before, 'the preflight never reached the service');
  });
});
