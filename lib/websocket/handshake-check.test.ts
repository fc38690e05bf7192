import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { describe, it } from 'node:test';
import { handshakeError } from './handshake-check.js';

const KEY = 'dGhlIHNhbXBsZSBub25jZQ==';

function req(headers: Record<string, string>, method = 'GET'): IncomingMessage {
  return { method, headers: { upgrade: 'websocket', ...headers } } as unknown as IncomingMessage;
}

describe('handshakeError', () => {
  it('accepts a valid handshake', () => {
    assert.equal(handshakeError(req({ 'sec-websocket-key': KEY, 'sec-websocket-version': '13' })), undefined);
  });

  it('refuses a missing or malformed key with 400', () => {
    for (const key of [undefined, '', 'not-base64!', 'c2hvcnQ=', `${KEY}, ${KEY}`, 'dGhlIHNhbXBsZSBub25jZR==']) {
      const err = handshakeError(
        req({ 'sec-websocket-version': '13', ...(key === undefined ? {} : { 'sec-websocket-key': key }) }),
      );
      assert.equal(err?.code, 'ERR_FG_BAD_HANDSHAKE', String(key));
      assert.equal(err?.status, 400);
    }
  });

  it('answers 426 for another version, 400 for none, and refuses non-GET or non-websocket upgrades', () => {
    assert.equal(handshakeError(req({ 'sec-websocket-key': KEY, 'sec-websocket-version': '8' }))?.status, 426);
    assert.equal(handshakeError(req({ 'sec-websocket-key': KEY }))?.status, 400);
    assert.equal(handshakeError(req({ 'sec-websocket-key': KEY, 'sec-websocket-version': '13' }, 'POST'))?.status, 400);
    assert.equal(
      handshakeError(req({ upgrade: 'h2c', 'sec-websocket-key': KEY, 'sec-websocket-version': '13' }))?.code,
      'ERR_FG_BAD_HANDSHAKE',
    );
  });
});
