import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { describe, it } from 'node:test';
import { removeRequestHeader, requestHeader, setRequestHeader } from './request-headers.js';

function request(raw: string[]): IncomingMessage {
  const headers: Record<string, string> = {};
  for (let i = 0; i < raw.length; i += 2) headers[raw[i]!.toLowerCase()] = raw[i + 1]!;
  return { headers, rawHeaders: [...raw] } as unknown as IncomingMessage;
}

describe('request headers', () => {
  it('removes every spelling of a name from both views', () => {
    const req = request(['Host', 'h', 'X-API-Key', 'a', 'x-api-key', 'b', 'Accept', '*/*']);
    assert.equal(removeRequestHeader(req, 'X-Api-Key'), true);
    assert.deepEqual(req.rawHeaders, ['Host', 'h', 'Accept', '*/*']);
    assert.equal(req.headers['x-api-key'], undefined);
    assert.equal(removeRequestHeader(req, 'x-api-key'), false);
  });

  it('sets a header, replacing what the client sent', () => {
    const req = request(['X-Api-Key-Name', 'forged']);
    setRequestHeader(req, 'X-Api-Key-Name', 'reader');
    assert.deepEqual(req.rawHeaders, ['x-api-key-name', 'reader']);
    assert.equal(requestHeader(req, 'X-API-KEY-NAME'), 'reader');
  });
});
