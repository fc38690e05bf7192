/**
 * apiKeys() and jwtAuth() report every refusal to their metrics sink, by mechanism, status and a
 * bounded reason; an admitted request reports nothing.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SignJWT } from 'jose';
import { apiKeys } from './api-keys.js';
import { fakeRequest, fakeResponse } from './auth.test-kit.js';
import { forbidden, unauthenticated } from './auth-errors.js';
import { type AuthRejection, authRejectionOf } from './auth-metrics-sink.js';
import { jwtAuth } from './jwt-auth.js';

const SECRET = new TextEncoder().encode('a-shared-secret-of-at-least-32-bytes!');

/** Runs one request through `mw`; resolves with the status (0 when it passed). */
async function run(
  mw: (req: never, res: never, next: () => void) => void,
  headers: Record<string, string>,
): Promise<number> {
  const r = fakeResponse();
  let passed = false;
  mw(fakeRequest(headers) as never, r.res as never, () => {
    passed = true;
  });
  if (!passed) await r.done;
  return passed ? 0 : r.status();
}

describe('auth metrics sink', () => {
  it('apiKeys() reports 401 by reason and 403, nothing for an admitted key', async () => {
    const seen: AuthRejection[] = [];
    const keys = apiKeys({
      keys: [{ name: 'reader', key: 'k-reader-0123456789abcdef', permissions: [] }],
      required: true,
      failedAttempts: false,
      metrics: { recordAuthRejection: (r) => seen.push(r) },
    });
    assert.equal(await run(keys, {}), 401);
    assert.equal(await run(keys, { 'x-api-key': 'wrong-key-0123456789abcdef' }), 401);
    assert.equal(await run(keys, { 'x-api-key': 'k-reader-0123456789abcdef' }), 0);
    assert.deepEqual(seen, [
      { mechanism: 'api_key', status: 401, reason: 'missing' },
      { mechanism: 'api_key', status: 401, reason: 'unknown' },
    ]);
    await keys.close();
  });

  it('jwtAuth() reports a bad signature and a missing scope', async () => {
    const seen: AuthRejection[] = [];
    const jwt = jwtAuth({
      secret: 'a-shared-secret-of-at-least-32-bytes!',
      scopes: ['items:read'],
      metrics: { recordAuthRejection: (r) => seen.push(r) },
    });
    const token = await new SignJWT({ scope: 'other' }).setProtectedHeader({ alg: 'HS256' }).sign(SECRET);
    assert.equal(await run(jwt, { authorization: `Bearer ${token}x` }), 401);
    assert.equal(await run(jwt, { authorization: `Bearer ${token}` }), 403);
    assert.deepEqual(seen, [
      { mechanism: 'jwt', status: 401, reason: 'signature' },
      { mechanism: 'jwt', status: 403, reason: 'forbidden' },
    ]);
  });

  it('authRejectionOf keeps reasons to a bounded set', () => {
    assert.deepEqual(authRejectionOf('jwt', unauthenticated('x', 'expired')), {
      mechanism: 'jwt',
      status: 401,
      reason: 'expired',
    });
    assert.equal(authRejectionOf('api_key', forbidden('x', { permission: 'p' }, 'who')).reason, 'forbidden');
  });
});
