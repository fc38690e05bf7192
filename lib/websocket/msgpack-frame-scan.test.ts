import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { encode } from '@msgpack/msgpack';
import { scanMsgpackFrame } from './msgpack-frame-scan.js';

const scan = (value: unknown) => scanMsgpackFrame(Buffer.from(encode(value)));

describe('scanMsgpackFrame', () => {
  it('reads path and id, skipping every other type', () => {
    const data = {
      s: 'x'.repeat(300),
      bin: new Uint8Array(70_000),
      arr: [1, -1, -200, 70_000, -70_000, 2 ** 40, 1.5, null, true, false, [[{}]]],
      big: Array.from({ length: 20 }, (_, i) => i),
      map: Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`k${i}`, i])),
      when: new Date(0),
    };
    assert.deepEqual(scan({ data, path: '/chat/x', id: 7 }), { ok: true, path: '/chat/x', id: 7 });
    assert.deepEqual(scan({ id: 'q'.repeat(40), data }), { ok: true, path: undefined, id: 'q'.repeat(40) });
    for (const id of [0, 127, 128, 255, 65_535, 65_536, 2 ** 33, -1, -33, -129, -40_000, -(2 ** 33), 0.5]) {
      assert.deepEqual(scan({ id }), { ok: true, path: undefined, id }, String(id));
    }
  });

  it('marks unusable fields null and refuses non-maps, truncation and repeats', () => {
    assert.deepEqual(scan({ path: 7, id: null }), { ok: true, path: null, id: null });
    assert.deepEqual(scan({ id: [1] }), { ok: true, path: undefined, id: null });
    for (const v of [[1], 'x', 3, null]) assert.equal(scan(v).ok, false);
    const whole = Buffer.from(encode({ path: '/x', id: 1, data: 'hello' }));
    for (let cut = 1; cut < whole.length; cut++) assert.equal(scanMsgpackFrame(whole.subarray(0, cut)).ok, false);
    assert.equal(scanMsgpackFrame(Buffer.concat([whole, Buffer.from([1])])).ok, false);
    // {path:'/a', path:'/b'} cannot be built with encode(): write the map by hand.
    const twice = Buffer.concat([Buffer.from([0x82]), Buffer.from(encode('path')), Buffer.from(encode('/a'))]);
    const dup = Buffer.concat([twice, Buffer.from(encode('path')), Buffer.from(encode('/b'))]);
    assert.equal(scanMsgpackFrame(dup).ok, false);
  });
});
