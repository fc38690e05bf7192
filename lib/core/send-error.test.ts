import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { FleetgateError } from '../errors.js';
import { type ErrorBody, sendError } from './send-error.js';

describe('sendError', () => {
  const server = createServer((req, res) => {
    if (req.url === '/boom') sendError(res, new TypeError('secret detail'));
    else sendError(res, new FleetgateError('ERR_FG_FORBIDDEN', 'not for you'), { headers: { 'x-extra': '1' } });
  });
  let base = '';
  before(async () => {
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => server.close());

  it('echoes a safe client request id in the body and the header', async () => {
    const res = await fetch(`${base}/x`, { headers: { 'x-request-id': 'abc-123' } });
    assert.equal(res.status, 403);
    assert.equal(res.headers.get('x-request-id'), 'abc-123');
    assert.equal(res.headers.get('x-extra'), '1');
    assert.deepEqual(await res.json(), {
      error: { code: 'ERR_FG_FORBIDDEN', message: 'not for you', request_id: 'abc-123' },
    });
  });

  it('mints a new id when the client sent none or an unsafe one', async () => {
    for (const sent of [undefined, 'x'.repeat(500), 'a b<script>']) {
      const res = await fetch(`${base}/x`, sent === undefined ? {} : { headers: { 'x-request-id': sent } });
      const body = (await res.json()) as ErrorBody;
      const id = res.headers.get('x-request-id');
      assert.ok(id !== null && id !== sent && id.length > 0 && id.length <= 128, String(id));
      assert.equal(body.error.request_id, id);
    }
  });

  it('answers an unexpected error 500 ERR_FG_INTERNAL without its message', async () => {
    const res = await fetch(`${base}/boom`);
    assert.equal(res.status, 500);
    const body = (await res.json()) as ErrorBody;
    assert.equal(body.error.code, 'ERR_FG_INTERNAL');
    assert.doesNotMatch(JSON.stringify(body), /secret detail/);
    assert.equal(body.error.request_id, res.headers.get('x-request-id'));
  });
});
