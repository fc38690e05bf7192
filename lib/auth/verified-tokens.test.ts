import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MAX_CACHED_TOKEN_LENGTH, VerifiedTokens } from './verified-tokens.js';

const NOW = 1_700_000_000_000;

describe('VerifiedTokens', () => {
  it('serves a token inside its nbf/exp window (with skew) and its ttl only', () => {
    const cache = new VerifiedTokens(10, 120_000, 30_000);
    const payload = { sub: 'u', nbf: NOW / 1000 + 10, exp: NOW / 1000 + 40 };
    cache.set('t', payload, NOW);
    assert.equal(cache.get('t', NOW - 20_001), undefined, 'before nbf − skew');
    cache.set('t', payload, NOW);
    assert.equal(cache.get('t', NOW), payload);
    assert.equal(cache.get('t', NOW + 69_999), payload, 'until exp + skew');
    assert.equal(cache.get('t', NOW + 70_000), undefined);
    assert.equal(cache.size, 0, 'a lapsed entry is dropped');
    const noExp = { sub: 'u' };
    cache.set('n', noExp, NOW);
    assert.equal(cache.get('n', NOW + 119_999), noExp);
    assert.equal(cache.get('n', NOW + 120_000), undefined, 'never longer than the ttl');
  });

  it('is bounded: the oldest entry goes, long tokens and size 0 are never cached', () => {
    const cache = new VerifiedTokens(2, 60_000, 0);
    cache.set('a', { sub: 'a' }, NOW);
    cache.set('b', { sub: 'b' }, NOW);
    cache.set('c', { sub: 'c' }, NOW);
    assert.equal(cache.size, 2);
    assert.equal(cache.get('a', NOW), undefined);
    assert.equal(cache.get('c', NOW)?.sub, 'c');
    const long = 'x'.repeat(MAX_CACHED_TOKEN_LENGTH + 1);
    cache.set(long, { sub: 'l' }, NOW);
    assert.equal(cache.get(long, NOW), undefined);
    const off = new VerifiedTokens(0, 60_000, 0);
    off.set('a', { sub: 'a' }, NOW);
    assert.equal(off.size, 0);
  });
});
