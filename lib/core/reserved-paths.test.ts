import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isPathFailure, normalizePath } from './path-normalize.js';
import { RESERVED_PATHS, reservedOverlapOf, reservedPathOf } from './reserved-paths.js';
import { compilePattern } from './route-pattern.js';

describe('reserved gateway paths', () => {
  it('are one frozen list', () => {
    assert.ok(Object.isFrozen(RESERVED_PATHS));
    assert.ok(RESERVED_PATHS.includes('/internal/**') && RESERVED_PATHS.includes('/livez'));
  });

  it('are found after normalisation, whatever the spelling', () => {
    for (const raw of [
      '/health',
      '/health/',
      '//health',
      '/./health',
      '//internal/services',
      '/%69nternal/services',
      '//_fleetgate/explain?method=GET',
      '/x/../metrics',
      '/internal',
      '/v1/agent/services',
      '/eureka/apps/',
      '/readyz',
    ]) {
      const norm = normalizePath(raw);
      assert.ok(!isPathFailure(norm), raw);
      assert.notEqual(reservedPathOf(norm.path), undefined, raw);
    }
    for (const path of ['/', '/api/health', '/healthz', '/health/x', '/v1/other', '/internals']) {
      assert.equal(reservedPathOf(path), undefined, path);
    }
  });

  it('are claimed by any pattern that overlaps one', () => {
    assert.equal(reservedOverlapOf(compilePattern('/:x')), '/internal/**', '/:x matches /internal (and /health)');
    assert.equal(reservedOverlapOf(compilePattern('/health/')), '/health');
    assert.equal(reservedOverlapOf(compilePattern('/**')), '/internal/**');
    assert.equal(reservedOverlapOf(compilePattern('/internal/services')), '/internal/**');
    assert.equal(reservedOverlapOf(compilePattern('/v1/*/x')), '/v1/agent/**');
    assert.equal(reservedOverlapOf(compilePattern('/api/**')), undefined);
    assert.equal(reservedOverlapOf(compilePattern('/health/x')), undefined);
  });
});
