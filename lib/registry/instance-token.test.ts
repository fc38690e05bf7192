/**
 * Instance tokens: each one is new (also across refills of the random pool), 256 bits in
 * base64url, and comes with its SHA-256.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  hashInstanceToken,
  issueInstanceToken,
  presentedTokenHash,
  sameSecret,
  sameTokenHash,
} from './instance-token.js';

test('tokens are distinct across pool refills, base64url of 32 bytes, with their hash', () => {
  const seen = new Set<string>();
  for (let i = 0; i < 1000; i++) {
    const { token, hash } = issueInstanceToken();
    assert.match(token, /^[A-Za-z0-9_-]{43}$/);
    assert.equal(Buffer.from(token, 'base64url').length, 32);
    assert.equal(hash, hashInstanceToken(token));
    assert.ok(!seen.has(token), `token ${i} repeats an earlier one`);
    seen.add(token);
  }
});

test('a presented token matches its own hash only', () => {
  const a = issueInstanceToken();
  const b = issueInstanceToken();
  assert.ok(sameTokenHash(a.hash, presentedTokenHash(a.token)));
  assert.ok(!sameTokenHash(a.hash, presentedTokenHash(b.token)));
  assert.equal(presentedTokenHash(undefined), undefined);
  assert.equal(presentedTokenHash(['x', 'y']), undefined);
});

test('sameTokenHash and sameSecret: equal strings only, absent sides never, any length', () => {
  const { hash } = issueInstanceToken();
  assert.ok(sameTokenHash(hash, `${hash}`));
  assert.ok(!sameTokenHash(hash, undefined));
  assert.ok(!sameTokenHash(undefined, hash));
  assert.ok(!sameTokenHash(undefined, undefined));
  assert.ok(!sameTokenHash(hash, hash.slice(1)));
  assert.ok(!sameTokenHash(hash, `${hash}0`));
  // A difference in the first, a middle or the last character is found.
  for (const at of [0, 31, 63]) {
    const other = hash.slice(0, at) + (hash[at] === 'a' ? 'b' : 'a') + hash.slice(at + 1);
    assert.ok(!sameTokenHash(hash, other), `differs at ${at}`);
  }
  assert.ok(sameSecret('', ''));
  assert.ok(!sameSecret('é', 'e'));
  assert.ok(sameSecret('ünïcödé', 'ünïcödé'));
});
