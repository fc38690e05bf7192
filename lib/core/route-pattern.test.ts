import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isFleetgateError } from '../errors.js';
import {
  comparePatterns,
  compilePattern,
  extractParams,
  isPatternProblem,
  matchesPath,
  matchSegments,
  methodsOverlap,
  normalizeMethod,
  parsePattern,
  routeAcceptsMethod,
  routeShapeKeyOf,
  splitSegments,
} from './route-pattern.js';

describe('compilePattern', () => {
  it('parses static, param, star and globstar segments', () => {
    const c = compilePattern('/api/:id/*/**');
    assert.deepEqual(
      c.segments.map((s) => s.kind),
      ['static', 'param', 'star', 'globstar'],
    );
    assert.equal(c.shape, '/api/:/*/**');
    assert.equal(c.pattern, '/api/:id/*/**');
  });

  it('ignores empty segments and parameter names in the shape', () => {
    assert.equal(compilePattern('/a//:x/').shape, compilePattern('/a/:y').shape);
    assert.equal(compilePattern('/').shape, '/');
  });

  it('normalises escapes in literals like request paths', () => {
    const c = compilePattern('/caf%c3%a9/%7euser');
    assert.deepEqual(c.segments, [
      { kind: 'static', value: 'caf%C3%A9' },
      { kind: 'static', value: '~user' },
    ]);
  });

  it('refuses invalid patterns with ERR_FG_INVALID_CONFIG', () => {
    for (const bad of [
      'api/x',
      '',
      '/a/**/b',
      '/files/*.txt',
      '/a/:',
      '/a/:1x',
      '/a/../b',
      '/a/./b',
      '/a%2Fb',
      '/a?x',
    ]) {
      assert.throws(
        () => compilePattern(bad),
        (err) => isFleetgateError(err, 'ERR_FG_INVALID_CONFIG'),
        bad,
      );
    }
  });

  it('refuses every pattern that no normalised request path could match, with the reason', () => {
    // Each was accepted by registrations once and then never routed anything.
    for (const bad of [
      '/**/**',
      '/a/**/b',
      '/:',
      '/:1bad',
      '/./x',
      '/%2F',
      '/a/%zz',
      '/%00',
      '/%2e%2e/x',
      '/%2E',
      '/a b',
      '/caf\u00e9',
      '/..;x',
      '/a\\b',
    ]) {
      const result = parsePattern(bad);
      assert.ok(isPatternProblem(result), bad);
      assert.match(result.reason, /\w/);
      assert.throws(
        () => compilePattern(bad, 'ERR_FG_INVALID_ROUTE'),
        (err) => isFleetgateError(err, 'ERR_FG_INVALID_ROUTE') && (err.details as { path: string }).path === bad,
        bad,
      );
    }
  });

  it('accepts what routes: sub-delims, colons inside literals, escapes of reserved characters', () => {
    for (const good of ['/', '/**', '/a:b/@x', "/!$&'()+,;=", '/a/%20b', '/v1/:id/*/**']) {
      assert.ok(!isPatternProblem(parsePattern(good)), good);
    }
  });
});

describe('comparePatterns', () => {
  it('orders static > param > * > ** segment by segment', () => {
    const ordered = [
      '/api/users/me',
      '/api/users/:id',
      '/api/users/*',
      '/api/users/**',
      '/api/:x/me',
      '/api/**',
      '/**',
    ];
    const shuffled = [...ordered].reverse();
    const sorted = shuffled.map((p) => compilePattern(p)).sort(comparePatterns);
    assert.deepEqual(
      sorted.map((c) => c.pattern),
      ordered,
    );
  });

  it('ranks an exact end above a trailing **', () => {
    assert.ok(comparePatterns(compilePattern('/api'), compilePattern('/api/**')) < 0);
  });
});

describe('helpers', () => {
  it('splitSegments drops empty segments', () => {
    assert.deepEqual(splitSegments('/api/users/'), ['api', 'users']);
    assert.deepEqual(splitSegments('/'), []);
  });

  it('matchSegments and extractParams', () => {
    const c = compilePattern('/a/:id/*/:rest/**');
    assert.deepEqual(matchSegments(c, ['a', '1', 'x', 'r']), { id: '1', rest: 'r' });
    assert.deepEqual(matchSegments(c, ['a', '1', 'x', 'r', 'y', 'z']), { id: '1', rest: 'r' });
    assert.equal(matchSegments(c, ['a', '1', 'x']), undefined);
    assert.equal(matchSegments(compilePattern('/a/b'), ['a', 'b', 'c']), undefined);
    assert.deepEqual(extractParams(c, '/a/1/x/r/y'), { id: '1', rest: 'r' });
    assert.deepEqual(extractParams(compilePattern('/a/:id'), '/a/7/'), { id: '7' });
    assert.deepEqual(extractParams(compilePattern('/a/*'), '/a/7'), {});
  });

  it('routeShapeKeyOf matches the registry key format', () => {
    assert.equal(routeShapeKeyOf('http', 'get', compilePattern('/a/:id/')), 'http GET /a/:');
    assert.equal(normalizeMethod(undefined), '*');
    assert.equal(normalizeMethod(''), '*');
  });
});

describe('methods', () => {
  it('HEAD falls back to GET; * takes every method', () => {
    assert.ok(routeAcceptsMethod('GET', 'HEAD'));
    assert.ok(!routeAcceptsMethod('HEAD', 'GET'));
    assert.ok(routeAcceptsMethod('*', 'DELETE'));
    assert.ok(methodsOverlap('HEAD', 'get'));
    assert.ok(methodsOverlap(undefined as unknown as string, 'POST'));
    assert.ok(!methodsOverlap('POST', 'GET'));
  });

  it('matchesPath reads a normalised path', () => {
    assert.ok(matchesPath(compilePattern('/api/%6Cogin'), '/api/login/'));
    assert.ok(!matchesPath(compilePattern('/api/login'), '/api/login/x'));
  });
});
