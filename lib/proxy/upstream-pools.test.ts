import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isFleetgateError } from '../errors.js';
import { echoUpstream } from '../test-support/http-test-kit.js';
import { UPSTREAM_POOL_DEFAULTS, UpstreamPools } from './upstream-pools.js';

describe('UpstreamPools', () => {
  it('shares one pool per origin, keeps a base path, closes when the last user leaves', async () => {
    const up = await echoUpstream('u');
    const pools = new UpstreamPools();
    try {
      assert.ok(Object.isFrozen(UPSTREAM_POOL_DEFAULTS));
      const a = pools.get(up.url);
      const b = pools.get(`${up.url}/base/`);
      assert.equal(a, pools.get(up.url));
      assert.equal(a.pool, b.pool);
      assert.equal(b.basePath, '/base');
      assert.equal(a.basePath, '');
      assert.equal(pools.size, 1);
      const res = await a.pool.request({ path: '/x', method: 'GET' });
      assert.equal(res.statusCode, 200);
      await res.body.text();
      pools.release(up.url);
      assert.equal(pools.size, 1);
      pools.release(`${up.url}/base/`);
      assert.equal(pools.size, 0);
      assert.deepEqual(pools.urls(), []);
      assert.throws(
        () => pools.get('not a url'),
        (e) => isFleetgateError(e, 'ERR_FG_INVALID_CONFIG'),
      );
    } finally {
      await pools.close();
      await up.close();
    }
    assert.throws(
      () => pools.get(up.url),
      (e) => isFleetgateError(e, 'ERR_FG_CLOSED'),
    );
  });
});
