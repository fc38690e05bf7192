import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { patternsOverlap, routesOverlap } from './route-overlap.js';
import { type CompiledPattern, compilePattern, matchSegments } from './route-pattern.js';

/** Brute force: some path built from the patterns' literals and one fresh word matches both. */
function overlapByEnumeration(a: CompiledPattern, b: CompiledPattern): boolean {
  const words = new Set(['zz']);
  for (const c of [a, b]) for (const s of c.segments) if (s.kind === 'static') words.add(s.value);
  const maxLen = Math.max(a.segments.length, b.segments.length) + 1;
  const alphabet = [...words];
  const paths: string[][] = [[]];
  for (let frontier: string[][] = [[]], n = 0; n < maxLen; n++) {
    const next: string[][] = [];
    for (const p of frontier) for (const w of alphabet) next.push([...p, w]);
    paths.push(...next);
    frontier = next;
  }
  return paths.some((p) => matchSegments(a, p) !== undefined && matchSegments(b, p) !== undefined);
}

describe('patternsOverlap', () => {
  it('finds the hijack cases that text comparison missed', () => {
    const victim = compilePattern('/api/comments/*');
    for (const attacker of [
      '/api/comments/:id',
      '/api/%63omments/*',
      '/api/comments/7',
      '/**',
      '/api/**',
      '/:a/:b/:c',
    ]) {
      assert.ok(patternsOverlap(victim, compilePattern(attacker)), attacker);
    }
    for (const other of ['/api/comments', '/api/comments/7/x', '/api/posts/*', '/:a/:b']) {
      assert.ok(!patternsOverlap(victim, compilePattern(other)), other);
    }
  });

  it('agrees with brute-force enumeration on every pair of a varied set', () => {
    const set = [
      '/',
      '/**',
      '/a',
      '/a/**',
      '/a/b',
      '/a/*',
      '/a/:x/c',
      '/*/b',
      '/:x/**',
      '/a/b/**',
      '/b/*/*',
      '/*',
      '/a/*/c/**',
      '/:p/:q',
    ].map((p) => compilePattern(p));
    for (const a of set) {
      for (const b of set) {
        assert.equal(patternsOverlap(a, b), overlapByEnumeration(a, b), `${a.pattern} vs ${b.pattern}`);
        assert.equal(patternsOverlap(a, b), patternsOverlap(b, a));
      }
    }
  });
});

describe('routesOverlap', () => {
  const r = (method: string, path: string, protocol?: 'http' | 'ws') => ({
    method,
    compiled: compilePattern(path),
    ...(protocol === undefined ? {} : { protocol }),
  });

  it('needs overlapping methods (HEAD overlaps GET) and the same protocol', () => {
    assert.ok(routesOverlap(r('GET', '/a/*'), r('GET', '/a/b')));
    assert.ok(routesOverlap(r('*', '/a/*'), r('POST', '/a/b')));
    assert.ok(routesOverlap(r('HEAD', '/a/*'), r('GET', '/a/b')));
    assert.ok(!routesOverlap(r('POST', '/a/*'), r('GET', '/a/b')));
    assert.ok(!routesOverlap(r('GET', '/a/*', 'ws'), r('GET', '/a/b')));
  });
});
