/**
 * registerService: options are validated up front; the defaults are frozen.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isFleetgateError } from '../errors.js';
import { REGISTER_SERVICE_DEFAULTS } from './register-options.js';
import { registerService } from './register-service.js';

describe('registerService', () => {
  it('validates options up front and freezes its defaults', () => {
    assert.ok(Object.isFrozen(REGISTER_SERVICE_DEFAULTS));
    const bad = (o: object) =>
      assert.throws(
        () => registerService({ gateway: 'http://127.0.0.1:1', service: 's', url: 'http://127.0.0.1:2', ...o }),
        (e: unknown) => isFleetgateError(e, 'ERR_FG_INVALID_CONFIG'),
      );
    bad({ gateway: 'not a url' });
    bad({ service: '' });
    bad({ url: 'ftp://x' });
    bad({ ttl: 'soon' });
    bad({ jitter: 1.5 });
    bad({ backoff: { maxMs: 10 } });
    bad({ prefix: 'internal' });
  });
});
