import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { ERROR_CODES, FleetgateError, isFleetgateError, isUnknownInstanceError } from './errors.js';

describe('errors', () => {
  it('documents every code in docs/errors.md with its status', () => {
    const doc = readFileSync(new URL('../docs/errors.md', import.meta.url), 'utf8');
    for (const [code, { status }] of Object.entries(ERROR_CODES)) {
      assert.match(doc, new RegExp(`\\| \`${code}\` \\| ${status} \\|`), `${code} missing from docs/errors.md`);
    }
  });

  it('carries code, status, details and cause, and serialises to the JSON error body', () => {
    const cause = new Error('boom');
    const err = new FleetgateError('ERR_FG_ROUTE_CONFLICT', 'taken', { details: { route: '/a' }, cause });
    assert.equal(err.status, 409);
    assert.equal(err.cause, cause);
    assert.deepEqual(JSON.parse(JSON.stringify(err)), {
      error: { code: 'ERR_FG_ROUTE_CONFLICT', message: 'taken', details: { route: '/a' } },
    });
  });

  it('type guards match by class and code', () => {
    const err = new FleetgateError('ERR_FG_UNKNOWN_INSTANCE', 'gone');
    assert.ok(isFleetgateError(err));
    assert.ok(isUnknownInstanceError(err));
    assert.ok(!isFleetgateError(err, 'ERR_FG_CLOSED'));
    assert.ok(!isFleetgateError(new Error('x')));
  });
});
