import assert from 'node:assert/strict';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { describe, it } from 'node:test';
import { listen, send } from '../test-support/http-test-kit.js';
import { ADMIN_ACCESS_DEFAULTS, adminGuard, createAdminAccess, isOperatorRequest } from './admin-access.js';
import { compose } from './compose.js';
import { normalisedPathOf, normalizeRequestTarget } from './normalize-target.js';

function fakeReq(address: string, headers: Record<string, string> = {}): IncomingMessage {
  return { socket: { remoteAddress: address }, headers, method: 'GET', url: '/metrics' } as unknown as IncomingMessage;
}

describe('createAdminAccess', () => {
  it('allows loopback by default, and nobody else without the token', () => {
    const admin = createAdminAccess();
    assert.equal(admin.isAdmin(fakeReq('127.0.0.1')), true);
    assert.equal(admin.isAdmin(fakeReq('::1')), true);
    assert.equal(admin.isAdmin(fakeReq('::ffff:127.0.0.2')), true);
    assert.equal(admin.isAdmin(fakeReq('10.1.2.3')), false);
    assert.ok(Object.isFrozen(ADMIN_ACCESS_DEFAULTS));
  });

  it('lets a caller holding the bearer token in from anywhere', () => {
    const admin = createAdminAccess({ allowFrom: [], token: 's3cret' });
    assert.equal(admin.isAdmin(fakeReq('10.1.2.3', { authorization: 'Bearer s3cret' })), true);
    assert.equal(admin.isAdmin(fakeReq('10.1.2.3', { authorization: 'Bearer s3cre' })), false);
    assert.equal(admin.isAdmin(fakeReq('127.0.0.1')), false, 'an empty allow-list allows nobody by address');
  });

  it('refuses malformed configuration', () => {
    assert.throws(() => createAdminAccess({ allowFrom: ['everyone'] }), { code: 'ERR_FG_INVALID_CONFIG' });
    assert.throws(() => createAdminAccess({ token: ' ' }), { code: 'ERR_FG_INVALID_CONFIG' });
  });

  it('uses the resolved client address when given one', () => {
    const admin = createAdminAccess({ clientAddress: () => '203.0.113.9' });
    assert.equal(admin.isAdmin(fakeReq('127.0.0.1')), false);
  });
});

describe('isOperatorRequest', () => {
  it('covers /metrics, everything under /_fleetgate and the instance listing, on the normalised path', () => {
    const yes = [
      ['GET', '/metrics'],
      ['GET', '/metrics?x=1'],
      ['GET', '//metrics'],
      ['POST', '/_fleetgate/explain'],
      ['GET', '/_fleetgate/anything/else'],
      ['GET', '/_fleetgate'],
      ['GET', '/x/../_fleetgate/explain?path=/'],
      ['GET', '/internal/services'],
      ['HEAD', '/internal/services'],
    ];
    for (const [method, url] of yes) assert.equal(isOperatorRequest({ method, url }), true, `${method} ${url}`);
    const no = [
      ['GET', '/health'],
      ['GET', '/metricsx'],
      ['GET', '/_fleetgatex'],
      ['POST', '/internal/register-service'],
      ['PUT', '/internal/services/a/instances/b/heartbeat'],
      ['GET', '/api/metrics'],
    ];
    for (const [method, url] of no) assert.equal(isOperatorRequest({ method, url }), false, `${method} ${url}`);
    assert.equal(isOperatorRequest({ method: 'GET', url: '/ops/services' }, { registryPrefix: '/ops' }), true);
  });

  it('trusts the gateway’s normalisation only while req.url is the target it left', () => {
    const req = { method: 'GET', url: '//metrics', rawHeaders: [] as string[] } as unknown as IncomingMessage;
    assert.ok(normalizeRequestTarget(req, {} as ServerResponse));
    assert.equal(req.url, '/metrics');
    assert.equal(normalisedPathOf(req), '/metrics');
    assert.equal(isOperatorRequest(req), true);
    // Rewritten after the dispatch normalised it (a middleware may): judged on its normal form again.
    for (const url of ['/x/../_fleetgate/explain', '//metrics?a=1', '/%69nternal/services']) {
      req.url = url;
      assert.equal(normalisedPathOf(req), undefined, url);
      assert.equal(isOperatorRequest(req), true, url);
    }
    req.url = '/api/metrics';
    assert.equal(isOperatorRequest(req), false);
  });
});

describe('adminGuard', () => {
  it('answers 403 ERR_FG_FORBIDDEN to outsiders and passes operators and other paths through', async () => {
    const warnings: string[] = [];
    const admin = createAdminAccess({
      allowFrom: ['10.0.0.0/8'],
      token: 'tok',
      logger: { info: () => {}, warn: (m: unknown) => warnings.push(String(m)), error: () => {} },
    });
    const server = await listen(
      compose([
        adminGuard(admin),
        (_req, res) => {
          res.end('served');
        },
      ]),
    );
    try {
      const refused = await send(`${server.url}/metrics`);
      assert.equal(refused.status, 403);
      assert.equal(JSON.parse(refused.body).error.code, 'ERR_FG_FORBIDDEN');
      assert.match(warnings.join('\n'), /refused 127\.0\.0\.1 on operator endpoint GET \/metrics/);
      const withToken = await send(`${server.url}/_fleetgate/explain?path=/`, {
        headers: { authorization: 'Bearer tok' },
      });
      assert.equal(withToken.body, 'served');
      assert.equal((await send(`${server.url}/health`)).body, 'served');
    } finally {
      await server.close();
    }
  });
});
