import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { describe, it } from 'node:test';
import { encodeForm, hasParsedBody, serializeParsedBody } from './body-replay.js';

describe('body-replay', () => {
  it('detects a body a parser consumed, not one set by hand on an unread stream', () => {
    const req = (props: object) => props as unknown as IncomingMessage;
    assert.equal(hasParsedBody(req({ body: { a: 1 }, _body: true, readableEnded: false })), true);
    assert.equal(hasParsedBody(req({ body: 'x', readableEnded: true })), true);
    assert.equal(hasParsedBody(req({ body: { a: 1 }, readableEnded: false })), false);
    assert.equal(hasParsedBody(req({ body: undefined, _body: true, readableEnded: true })), false);
  });

  it('re-serialises JSON, keeping +json types', () => {
    const r = serializeParsedBody({ a: [1, 'é'] }, 'application/json; charset=utf-8', 20);
    assert.equal(r.data.toString('utf8'), '{"a":[1,"é"]}');
    assert.equal(r.contentType, undefined);
    const p = serializeParsedBody({ x: 1 }, 'application/problem+json');
    assert.equal(p.data.toString(), '{"x":1}');
  });

  it('re-serialises forms so express.urlencoded reads the same value', () => {
    assert.equal(
      encodeForm({ a: '1 2', list: ['x', 'y'], nested: { k: 'v' }, objs: [{ n: 1 }] }),
      'a=1%202&list=x&list=y&nested%5Bk%5D=v&objs%5B0%5D%5Bn%5D=1',
    );
    const r = serializeParsedBody({ q: 'a&b=c' }, 'application/x-www-form-urlencoded');
    assert.equal(r.data.toString(), 'q=a%26b%3Dc');
    assert.deepEqual(Object.fromEntries(new URLSearchParams(r.data.toString())), { q: 'a&b=c' });
  });

  it('passes bytes and text through, re-labelling a foreign charset as utf-8', () => {
    const raw = Buffer.from([1, 2, 3]);
    assert.equal(serializeParsedBody(raw, 'application/octet-stream').data, raw);
    const t = serializeParsedBody('café', 'text/plain; charset=iso-8859-1');
    assert.equal(t.data.toString('utf8'), 'café');
    assert.equal(t.contentType, 'text/plain; charset=utf-8');
    assert.equal(serializeParsedBody('x', 'text/plain').contentType, undefined);
  });

  it('keeps an empty body empty and sends objects of other types as JSON', () => {
    assert.equal(serializeParsedBody({}, 'application/json', 0).data.length, 0);
    const other = serializeParsedBody({ a: 1 }, 'application/x-custom');
    assert.equal(other.data.toString(), '{"a":1}');
    assert.equal(other.contentType, 'application/json; charset=utf-8');
  });
});
