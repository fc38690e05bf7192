import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { hashInstanceToken, issueInstanceToken } from '../instance-token.js';
import { VerifiedTokens } from './verified-tokens.js';

describe('VerifiedTokens', () => {
  test('answers the remembered hash only for the exact remembered token; any other is hashed afresh', () => {
    const tokens = new VerifiedTokens();
    const { token, hash } = issueInstanceToken();
    tokens.remember('a', token, hash);
    assert.equal(tokens.hashOf('a', token), hash);
    const other = `${token.slice(0, -1)}${token.endsWith('A') ? 'B' : 'A'}`;
    assert.equal(tokens.hashOf('a', other), hashInstanceToken(other));
    assert.equal(tokens.hashOf('b', token), hash, 'another key hashes the same token to the same value');
    assert.equal(tokens.hashOf('a', undefined), undefined);
    assert.equal(tokens.hashOf('a', ''), undefined);
    assert.equal(tokens.hashOf('a', [token, token]), undefined, 'a repeated header counts as none');
  });

  test('a remembered hash that is not the token’s own is never trusted for a different token', () => {
    const tokens = new VerifiedTokens();
    tokens.remember('a', 'token-1', 'not-the-hash');
    assert.equal(tokens.hashOf('a', 'token-2'), hashInstanceToken('token-2'));
  });

  test('forgets on request and stays within its bound, oldest first', () => {
    const tokens = new VerifiedTokens(2);
    tokens.remember('a', 't1', 'h1');
    tokens.remember('b', 't2', 'h2');
    tokens.remember('c', 't3', 'h3');
    assert.equal(tokens.size, 2);
    assert.equal(tokens.hashOf('a', 't1'), hashInstanceToken('t1'));
    assert.equal(tokens.hashOf('c', 't3'), 'h3');
    tokens.forget('c');
    assert.equal(tokens.hashOf('c', 't3'), hashInstanceToken('t3'));
  });
});
