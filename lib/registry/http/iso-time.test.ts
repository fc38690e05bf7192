import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isoTime } from './iso-time.js';

describe('isoTime', () => {
  it('writes what Date#toISOString writes, within one second and across seconds', () => {
    const base = Date.UTC(2026, 11, 3, 17, 5, 1);
    for (let ms = base - 2500; ms <= base + 2500; ms += 7) assert.equal(isoTime(ms), new Date(ms).toISOString());
    for (const ms of [base, base + 1, base + 9, base + 10, base + 99, base + 100, base + 999, base + 1000])
      assert.equal(isoTime(ms), new Date(ms).toISOString());
  });

  it('writes the same text for edge times: negative, fractional, epoch, far years', () => {
    const times = [
      0, -1, -999, -1000, -1001, 1.5, -1.5, 999.999, 1_700_000_000_000.7, -62_198_755_200_000, 253_402_300_799_999,
      253_402_300_800_000, -62_198_755_200_001, 8.64e15, -8.64e15,
    ];
    for (const ms of times) {
      assert.equal(isoTime(ms), new Date(ms).toISOString(), `at ${ms}`);
      assert.equal(isoTime(ms), new Date(ms).toISOString(), `at ${ms}, cached`);
    }
  });

  it('alternating seconds never mix their texts', () => {
    const a = Date.UTC(2030, 0, 1, 0, 0, 0);
    const b = Date.UTC(2031, 5, 6, 7, 8, 9);
    for (let k = 0; k < 50; k++) {
      assert.equal(isoTime(a + k), new Date(a + k).toISOString());
      assert.equal(isoTime(b + k), new Date(b + k).toISOString());
    }
  });

  it('refuses what Date refuses, with the same RangeError', () => {
    for (const ms of [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, 8.64e15 + 1]) {
      assert.throws(() => isoTime(ms), RangeError);
    }
  });
});
