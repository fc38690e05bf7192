import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isPathFailure, type NormalizeResult, normalizePath } from './path-normalize.js';

function pathOf(raw: string): string {
  const r = normalizePath(raw);
  assert.ok(!isPathFailure(r), `${raw} was refused: ${JSON.stringify(r)}`);
  return r.path;
}

function refused(raw: string): string {
  const r: NormalizeResult = normalizePath(raw);
  assert.ok(isPathFailure(r), `${raw} was accepted as ${JSON.stringify(r)}`);
  assert.equal(r.error, 'bad-path');
  return r.reason;
}

describe('normalizePath', () => {
  it('returns the common case unchanged, the very same string', () => {
    const raw = '/api/users/42';
    const r = normalizePath(raw);
    assert.ok(!isPathFailure(r));
    assert.equal(r.path, raw);
    assert.equal(r.query, '');
  });

  it('splits off the query string verbatim, leading "?" included', () => {
    assert.deepEqual(normalizePath('/a/b?x=%2F&y=../z#frag'), { path: '/a/b', query: '?x=%2F&y=../z' });
    assert.deepEqual(normalizePath('/a?'), { path: '/a', query: '?' });
    assert.deepEqual(normalizePath('/a/./b?q'), { path: '/a/b', query: '?q' });
  });

  it('resolves every traversal variant before matching (RFC 3986 dot-segment removal)', () => {
    // ".." removes one segment: /api/x/../admin is /api/admin, as a browser or WHATWG URL resolves it.
    for (const raw of [
      '/api/x/../admin',
      '/api/x/%2e%2e/admin',
      '/api/x/%2E%2E/admin',
      '/api/x/.%2e/admin',
      '/api/x/%2e./admin',
    ]) {
      assert.equal(pathOf(raw), '/api/admin', raw);
      assert.equal(pathOf(raw), new URL(raw.replaceAll('%2e', '.').replaceAll('%2E', '.'), 'http://h').pathname);
    }
    for (const raw of [
      '/api/../admin',
      '/api/%2e%2e/admin',
      '/api/%2E%2E/admin',
      '/api/.%2e/admin',
      '/api/./x/../../admin',
      '/api/x/y/../../../admin',
      '/api/x/%2e%2e/%2E%2E/admin',
    ]) {
      assert.equal(pathOf(raw), '/admin', raw);
    }
  });

  it('never climbs above the root', () => {
    assert.equal(pathOf('/../../etc/passwd'), '/etc/passwd');
    assert.equal(pathOf('/%2e%2e/%2e%2e/etc'), '/etc');
    assert.equal(pathOf('/..'), '/');
    assert.equal(pathOf('/a/..'), '/');
  });

  it('collapses empty segments and "." and keeps a trailing slash', () => {
    assert.equal(pathOf('/a//b///c'), '/a/b/c');
    assert.equal(pathOf('//a'), '/a');
    assert.equal(pathOf('/a/./b/.'), '/a/b/');
    assert.equal(pathOf('/a/b/'), '/a/b/');
    assert.equal(pathOf('/a/b/..'), '/a/');
    assert.equal(pathOf('/'), '/');
  });

  it('keeps names that merely start with a dot', () => {
    assert.equal(pathOf('/a/.well-known/x'), '/a/.well-known/x');
    assert.equal(pathOf('/a/...'), '/a/...');
  });

  it('decodes unreserved escapes and upper-cases the others', () => {
    assert.equal(pathOf('/%7Euser/%41b%2d'), '/~user/Ab-');
    assert.equal(pathOf('/a%3ab/%c3%a9/%20'), '/a%3Ab/%C3%A9/%20');
  });

  it('decodes only once: a double-encoded dot stays a literal', () => {
    assert.equal(pathOf('/a/%252e%252e/b'), '/a/%252e%252e/b');
  });

  it('refuses encoded slashes and backslashes, backslashes, NUL and control characters', () => {
    for (const raw of [
      '/a%2Fb',
      '/a%2fb',
      '/a/%2e%2e%2fadmin',
      '/a%5Cb',
      '/a%5cb',
      '/a\\b',
      '/a%00',
      '/a\u0000b',
      '/a\tb',
    ]) {
      refused(raw);
    }
  });

  it('refuses dot segments with matrix parameters (read as ".." by servlet containers)', () => {
    for (const raw of ['/api/public/..;/admin', '/api/public/%2e%2e;x=1/admin', '/a/.;/b']) refused(raw);
    assert.equal(pathOf('/a/b;v=1/c'), '/a/b;v=1/c');
  });

  it('refuses malformed escapes and targets that are not paths', () => {
    for (const raw of ['/a%zz', '/a%4', '/a%', '*', 'api/x', '']) refused(raw);
  });

  it('accepts the absolute form and takes its path', () => {
    assert.deepEqual(normalizePath('http://gw.example:8080/a/../b?x=1'), { path: '/b', query: '?x=1' });
    assert.deepEqual(normalizePath('https://gw.example?x'), { path: '/', query: '?x' });
    assert.deepEqual(normalizePath('http://gw.example'), { path: '/', query: '' });
  });

  it('drops a fragment', () => {
    assert.deepEqual(normalizePath('/a/b#/../../admin'), { path: '/a/b', query: '' });
  });
});
