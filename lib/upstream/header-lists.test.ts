import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { listen, send } from '../test-support/http-test-kit.js';
import { setBodyHeaders, writeHeadArray } from './header-lists.js';

function toMap(flat: string[]): Map<string, string[]> {
  const m = new Map<string, string[]>();
  for (let i = 0; i < flat.length; i += 2) {
    const k = flat[i]!.toLowerCase();
    m.set(k, [...(m.get(k) ?? []), flat[i + 1]!]);
  }
  return m;
}

describe('setBodyHeaders', () => {
  it('replaces length, drops the encoding, optionally the type', () => {
    const out = toMap(
      setBodyHeaders(
        ['Content-Length', '99', 'Content-Encoding', 'gzip', 'Content-Type', 'text/plain; charset=latin1', 'X', '1'],
        5,
        'text/plain; charset=utf-8',
      ),
    );
    assert.deepEqual(out.get('content-length'), ['5']);
    assert.equal(out.has('content-encoding'), false);
    assert.deepEqual(out.get('content-type'), ['text/plain; charset=utf-8']);
    assert.deepEqual(out.get('x'), ['1']);
  });
});

describe('writeHeadArray', () => {
  it('keeps repeated names with and without headers a framework set first', async () => {
    const server = await listen((req, res) => {
      if (req.url === '/preset') {
        res.setHeader('X-Powered-By', 'framework');
        res.setHeader('X-Frame', 'keep');
      }
      writeHeadArray(res, 201, [
        'Set-Cookie',
        'a=1',
        'X-Powered-By',
        'upstream',
        'set-cookie',
        'b=2',
        'Set-Cookie',
        'c=3',
      ]);
      res.end();
    });
    try {
      for (const path of ['/plain', '/preset']) {
        const res = await send(server.url + path);
        assert.equal(res.status, 201);
        assert.deepEqual(res.headers['set-cookie'], ['a=1', 'b=2', 'c=3'], path);
        assert.equal(res.headers['x-powered-by'], 'upstream', path);
      }
      assert.equal((await send(`${server.url}/preset`)).headers['x-frame'], 'keep');
    } finally {
      await server.close();
    }
  });
});
