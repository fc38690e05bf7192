import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { errorFrame, parseClientFrame, replyIdOf } from './message-frames.js';

describe('message frames', () => {
  it('parses valid frames, with string or number ids and any data', () => {
    assert.deepEqual(parseClientFrame('{"path":"/chat/x","id":7,"data":{"a":1}}'), {
      ok: true,
      frame: { path: '/chat/x', id: 7, data: { a: 1 } },
    });
    assert.deepEqual(parseClientFrame('{"path":"/x","id":"q"}'), {
      ok: true,
      frame: { path: '/x', id: 'q', data: undefined },
    });
  });

  it('refuses malformed frames, keeping the id when there is one', () => {
    const cases: [string, string | number | null][] = [
      ['nope', null],
      ['[]', null],
      ['null', null],
      ['{"path":"/x"}', null],
      ['{"path":"/x","id":{}}', null],
      [`{"path":"/x","id":"${'i'.repeat(300)}"}`, null],
      ['{"id":3}', 3],
      ['{"id":"a","path":"x"}', 'a'],
      [`{"id":4,"path":"/${'p'.repeat(3000)}"}`, 4],
    ];
    for (const [text, id] of cases) {
      const r = parseClientFrame(text);
      assert.equal(r.ok, false, text);
      if (!r.ok) assert.equal(r.id, id, text);
    }
  });

  it('writes error frames with, without and with a null id', () => {
    assert.deepEqual(JSON.parse(errorFrame(1, 'ERR_FG_NO_ROUTE', 'none')), {
      id: 1,
      error: { code: 'ERR_FG_NO_ROUTE', message: 'none' },
    });
    assert.deepEqual(JSON.parse(errorFrame(undefined, 'ERR_FG_UPSTREAM_CONNECT', 'gone', { service: 'chat' })), {
      error: { code: 'ERR_FG_UPSTREAM_CONNECT', message: 'gone', service: 'chat' },
    });
    assert.equal(JSON.parse(errorFrame(null, 'ERR_FG_INVALID_BODY', 'bad')).id, null);
  });

  it('reads reply ids without trusting the frame', () => {
    assert.equal(replyIdOf('{"id":5,"data":1}'), 5);
    assert.equal(replyIdOf('{"data":1}'), undefined);
    assert.equal(replyIdOf('garbage'), undefined);
    assert.equal(replyIdOf('null'), undefined);
  });
});
