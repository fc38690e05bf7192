import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { scanJsonFrame } from './json-frame-scan.js';

const scan = (text: string) => scanJsonFrame(Buffer.from(text));

describe('scanJsonFrame', () => {
  it('reads path and id wherever they are, skipping any data', () => {
    assert.deepEqual(scan('{"path":"/chat/x","id":7,"data":{"a":[1,{"b":"}"}]}}'), {
      ok: true,
      path: '/chat/x',
      id: 7,
    });
    assert.deepEqual(scan(' { "data" : "a\\"b}" , "id" : "q" , "path" : "/x" } '), { ok: true, path: '/x', id: 'q' });
    assert.deepEqual(scan('{"id":-1.5e3,"data":[true,false,null]}'), { ok: true, path: undefined, id: -1500 });
    assert.deepEqual(scan('{"data":1}'), { ok: true, path: undefined, id: undefined });
    assert.deepEqual(scan('{}'), { ok: true, path: undefined, id: undefined });
    assert.deepEqual(scan('{"path":"/caf\u00e9","id":"\u00e9"}'), { ok: true, path: '/café', id: 'é' });
  });

  it('decodes escaped keys and values the way JSON.parse does', () => {
    assert.deepEqual(scan('{"p\\u0061th":"/a\\/b","\\u0069d":"x\\ny"}'), { ok: true, path: '/a/b', id: 'x\ny' });
  });

  it('marks present but unusable fields as null', () => {
    assert.deepEqual(scan('{"path":7,"id":null}'), { ok: true, path: null, id: null });
    assert.deepEqual(scan('{"path":"/x","id":{}}'), { ok: true, path: '/x', id: null });
    assert.deepEqual(scan(`{"id":"${'i'.repeat(300)}"}`), { ok: true, path: undefined, id: null });
    assert.deepEqual(scan(`{"id":1,"path":"/${'p'.repeat(3000)}"}`), { ok: true, path: null, id: 1 });
    assert.deepEqual(scan('{"id":01}'), { ok: true, path: undefined, id: null });
  });

  it('refuses what is not one JSON object, and repeated routing fields', () => {
    for (const text of [
      'nope',
      '[]',
      'null',
      '"x"',
      '{',
      '{"id":1',
      '{"id":1}}',
      '{"id" 1}',
      '{id:1}',
      '{"a":"x}',
      '{"id":1,}x',
    ]) {
      assert.equal(scan(text).ok, false, text);
    }
    const twice = scan('{"id":3,"path":"/a","path":"/b"}');
    assert.equal(twice.ok, false);
    assert.equal(twice.ok ? undefined : twice.id, 3);
    assert.equal(scan('{"id":1,"\\u0069d":2}').ok, false);
  });

  it('agrees with JSON.parse on generated frames', () => {
    const values = [0, -3, 1.25, 'x', 'a"b', 'é\\', [], [1, [2]], { a: { b: '}' } }, null, true];
    for (let n = 0; n < 300; n++) {
      const obj: Record<string, unknown> = {};
      const keys = ['data', 'path', 'id', 'meta', 'x'].filter((_, k) => (n >> k) & 1 || k === 0);
      for (const [k, key] of keys.entries()) {
        obj[key] =
          key === 'path' ? `/p/${n}` : key === 'id' ? (n % 2 ? n : `id-${n}`) : values[(n + k) % values.length];
      }
      const text = JSON.stringify(obj, null, n % 3 === 0 ? 1 : undefined);
      const parsed = JSON.parse(text) as { path?: string; id?: string | number };
      assert.deepEqual(scan(text), { ok: true, path: parsed.path, id: parsed.id }, text);
    }
  });
});
