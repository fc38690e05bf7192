import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { describe, it } from 'node:test';
import { cookieValue, stickyKeyOf } from './sticky-key.js';

describe('sticky key', () => {
  it('finds a cookie by exact name', () => {
    assert.equal(cookieValue('sid=abc', 'sid'), 'abc');
    assert.equal(cookieValue('theme=dark; sid=abc; x=1', 'sid'), 'abc');
    assert.equal(cookieValue('xsid=no; sid=yes', 'sid'), 'yes');
    assert.equal(cookieValue('sidx=no', 'sid'), undefined);
    assert.equal(cookieValue('sid=', 'sid'), undefined);
    assert.equal(cookieValue('', 'sid'), undefined);
  });

  it('prefers the header, then the cookie', () => {
    const req = (headers: Record<string, string>) => ({ headers }) as unknown as IncomingMessage;
    const opts = { header: 'X-Session', cookie: 'sid' };
    assert.equal(stickyKeyOf(req({ 'x-session': 'h', cookie: 'sid=c' }), opts), 'h');
    assert.equal(stickyKeyOf(req({ cookie: 'sid=c' }), opts), 'c');
    assert.equal(stickyKeyOf(req({}), opts), undefined);
  });
});
