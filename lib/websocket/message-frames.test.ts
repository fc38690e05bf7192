import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { errorFrame, isMessageId } from './message-frames.js';

describe('message frames', () => {
  it('accepts string ids up to 256 chars and finite numbers', () => {
    assert.equal(isMessageId('a'), true);
    assert.equal(isMessageId(7), true);
    assert.equal(isMessageId('i'.repeat(257)), false);
    assert.equal(isMessageId(Number.NaN), false);
    assert.equal(isMessageId(null), false);
    assert.equal(isMessageId({}), false);
  });

  it('builds error frames with, without, and with a null id', () => {
    assert.deepEqual(errorFrame(7, 'ERR_FG_NO_ROUTE', 'none', { service: 'chat' }), {
      id: 7,
      error: { code: 'ERR_FG_NO_ROUTE', message: 'none', service: 'chat' },
    });
    assert.deepEqual(errorFrame(null, 'ERR_FG_INVALID_BODY', 'bad'), {
      id: null,
      error: { code: 'ERR_FG_INVALID_BODY', message: 'bad' },
    });
    assert.deepEqual(errorFrame(undefined, 'ERR_FG_UPSTREAM_CONNECT', 'gone'), {
      error: { code: 'ERR_FG_UPSTREAM_CONNECT', message: 'gone' },
    });
  });
});
