import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type CompiledPattern, comparePatterns, compilePattern, matchSegments } from '../core/route-pattern.js';
import { RouteTrie } from './route-trie.js';

interface V {
  compiled: CompiledPattern;
  name: string;
}

function trieOf(entries: [method: string, pattern: string][]): RouteTrie<V> {
  const trie = new RouteTrie<V>();
  for (const [method, pattern] of entries)
    trie.insert(method, { compiled: compilePattern(pattern), name: `${method} ${pattern}` });
  return trie;
}

function lookup(trie: RouteTrie<V>, method: string, path: string): string | undefined {
  return trie.lookup(method, path)?.name;
}

describe('RouteTrie', () => {
  it('prefers static > param > * > **', () => {
    const trie = trieOf([
      ['*', '/api/**'],
      ['*', '/api/users/*'],
      ['*', '/api/users/:id'],
      ['*', '/api/users/me'],
    ]);
    assert.equal(lookup(trie, 'GET', '/api/users/me'), '* /api/users/me');
    assert.equal(lookup(trie, 'GET', '/api/users/42'), '* /api/users/:id');
    assert.equal(lookup(trie, 'GET', '/api/users/42/posts'), '* /api/**');
    assert.equal(lookup(trie, 'GET', '/api'), '* /api/**');
    assert.equal(lookup(trie, 'GET', '/other'), undefined);
  });

  it('skips empty segments, so a trailing slash matches the same route', () => {
    const trie = trieOf([
      ['*', '/a/:id'],
      ['*', '/'],
    ]);
    assert.equal(lookup(trie, 'GET', '/a/1/'), '* /a/:id');
    assert.equal(lookup(trie, 'GET', '/'), '* /');
    assert.equal(lookup(trie, 'GET', ''), '* /');
  });

  it('finds static children both among few siblings and among many', () => {
    const entries: [string, string][] = [];
    for (let i = 0; i < 40; i++) entries.push(['GET', `/s${i}/x`]);
    const trie = trieOf([...entries, ['GET', '/few/a'], ['GET', '/few/ab'], ['GET', '/few/b']]);
    assert.equal(lookup(trie, 'GET', '/s17/x'), 'GET /s17/x');
    assert.equal(lookup(trie, 'GET', '/s40/x'), undefined);
    assert.equal(lookup(trie, 'GET', '/few/ab'), 'GET /few/ab');
    assert.equal(lookup(trie, 'GET', '/few/a'), 'GET /few/a');
    assert.equal(lookup(trie, 'GET', '/few/abc'), undefined);
    // Shrinking back below the threshold keeps lookups right.
    for (const [m, p] of entries.slice(0, 38)) {
      const v = trie.lookup(m, p)!;
      trie.remove(m, v);
    }
    assert.equal(lookup(trie, 'GET', '/s39/x'), 'GET /s39/x');
    assert.equal(lookup(trie, 'GET', '/s1/x'), undefined);
  });

  it('uses * when no param competes, and backtracks to a less specific branch', () => {
    const trie = trieOf([
      ['*', '/api/users/*'],
      ['*', '/api/:kind/:id/edit'],
    ]);
    assert.equal(lookup(trie, 'GET', '/api/users/7'), '* /api/users/*');
    // The static "users" branch has no /edit: fall back to the param branch.
    assert.equal(lookup(trie, 'GET', '/api/users/7/edit'), '* /api/:kind/:id/edit');
  });

  it('compares left to right: an early static beats a later one', () => {
    const trie = trieOf([
      ['*', '/a/:id/x'],
      ['*', '/a/b/**'],
    ]);
    assert.equal(lookup(trie, 'GET', '/a/b/x'), '* /a/b/**');
  });

  it('is method-aware: an exact method beats * at the same pattern, else falls through', () => {
    const trie = trieOf([
      ['*', '/items/:id'],
      ['GET', '/items/:id'],
      ['DELETE', '/items/special'],
      ['*', '/**'],
    ]);
    assert.equal(lookup(trie, 'GET', '/items/1'), 'GET /items/:id');
    assert.equal(lookup(trie, 'POST', '/items/1'), '* /items/:id');
    assert.equal(lookup(trie, 'DELETE', '/items/special'), 'DELETE /items/special');
    assert.equal(lookup(trie, 'GET', '/items/special'), 'GET /items/:id');
    assert.equal(lookup(trie, 'HEAD', '/items/1'), 'GET /items/:id');
  });

  it('removes values and prunes empty branches', () => {
    const trie = new RouteTrie<V>();
    const a = { compiled: compilePattern('/a/:id/x'), name: 'a' };
    const b = { compiled: compilePattern('/a/**'), name: 'b' };
    trie.insert('GET', a);
    trie.insert('GET', b);
    assert.equal(trie.size, 2);
    assert.equal(trie.remove('GET', a), true);
    assert.equal(trie.remove('GET', a), false);
    assert.equal(trie.size, 1);
    assert.equal(lookup(trie, 'GET', '/a/1/x'), 'b');
    trie.remove('GET', b);
    assert.equal(trie.size, 0);
    assert.deepEqual([...trie.values()], []);
  });

  it('agrees with a linear most-specific-first scan on random tables and paths', () => {
    let seed = 42;
    const rnd = (n: number) => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return seed % n;
    };
    const words = ['a', 'b', 'c'];
    const randomSegment = () => {
      const r = rnd(10);
      return r < 5 ? words[rnd(3)]! : r < 7 ? `:p${rnd(3)}` : r < 9 ? '*' : '**';
    };
    for (let round = 0; round < 30; round++) {
      const patterns = new Set<string>();
      for (let i = 0; i < 25; i++) {
        const segs: string[] = [];
        const len = rnd(4);
        for (let j = 0; j < len; j++) {
          const s = randomSegment();
          segs.push(s);
          if (s === '**') break;
        }
        patterns.add(`/${segs.join('/')}`);
      }
      // One entry per shape, like the route table.
      const byShape = new Map<string, CompiledPattern>();
      for (const p of patterns) byShape.set(compilePattern(p).shape, compilePattern(p));
      const compiled = [...byShape.values()];
      const trie = new RouteTrie<V>();
      for (const c of compiled) trie.insert('*', { compiled: c, name: c.pattern });
      const linear = [...compiled].sort(comparePatterns);
      for (let k = 0; k < 40; k++) {
        const segs: string[] = [];
        const len = rnd(5);
        for (let j = 0; j < len; j++) segs.push(words[rnd(3)]!);
        const expected = linear.find((c) => matchSegments(c, segs) !== undefined)?.pattern;
        assert.equal(
          trie.lookup('GET', `/${segs.join('/')}`)?.name,
          expected,
          `path /${segs.join('/')} in ${[...patterns].join(' ')}`,
        );
      }
    }
  });
});
