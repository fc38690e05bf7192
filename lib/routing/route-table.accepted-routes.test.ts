/**
 * What registration accepts always routes: for random valid patterns, a request path generated
 * from the pattern (with odd but legal spellings) reaches that route through the real RouteTable.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fakeRegistry, instanceInput } from '../../fixtures/registry-doubles.js';
import { seededRandom } from '../client/backoff.js';
import { isPathFailure, normalizePath } from '../core/path-normalize.js';
import { RouteTable } from './route-table.js';

const LITERALS = ['api', 'v1', 'a:b', 'x@y', '%7Euser', 'caf%C3%A9', "it's", 'a.b', '~t', 'x%20y', 'Q;r=1'];

describe('accepted routes always route', () => {
  it('a path generated from each random valid pattern matches it in the real table', async () => {
    for (let seed = 1; seed <= 60; seed++) {
      const rand = seededRandom(seed); // reproducible: a failure names its seed
      const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
      const n = 1 + Math.floor(rand() * 4);
      const pattern: string[] = [`svc${seed}`]; // a unique leading literal: no cross-service overlap
      const path: string[] = [`svc${seed}`];
      for (let i = 0; i < n; i++) {
        const kind = pick(['lit', 'lit', 'param', 'star', 'glob'] as const);
        if (kind === 'glob' && i === n - 1) {
          pattern.push('**');
          for (let k = Math.floor(rand() * 3); k > 0; k--) path.push(pick(LITERALS));
        } else if (kind === 'param') {
          pattern.push(`:p${i}`);
          path.push(pick(LITERALS));
        } else if (kind === 'star') {
          pattern.push('*');
          path.push(pick(LITERALS));
        } else {
          const lit = pick(LITERALS);
          pattern.push(lit);
          // Request spelling: escape one unreserved letter when there is one.
          path.push(lit.replace(/^([a-z])/, (c) => `%${c.charCodeAt(0).toString(16)}`));
        }
      }
      const patternText = `/${pattern.join('/')}`;
      await using fx = await fakeRegistry();
      await fx.registry.register(instanceInput(`svc${seed}`, 'i1', { routes: [{ method: 'GET', path: patternText }] }));
      await using table = new RouteTable({ registry: fx.registry, nameRouting: false });
      const raw = `/${path.join('//')}/?q=${seed}`;
      const norm = normalizePath(raw);
      assert.ok(!isPathFailure(norm), `seed ${seed}: ${raw}`);
      const hit = table.match('GET', norm.path, norm.query);
      assert.equal(hit?.pattern, patternText, `seed ${seed}: ${raw} should match ${patternText}`);
    }
  });
});
