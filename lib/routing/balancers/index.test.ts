import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isFleetgateError } from '../../errors.js';
import { BALANCER_NAMES, type BalancerName, createBalancer } from './index.js';

describe('createBalancer', () => {
  it('builds every strategy by name, each with its own state', () => {
    for (const name of BALANCER_NAMES) {
      const b = createBalancer(name);
      assert.equal(b.name, name);
      assert.notEqual(createBalancer(name), b);
    }
  });

  it('refuses an unknown name with ERR_FG_INVALID_CONFIG', () => {
    assert.throws(
      () => createBalancer('random' as BalancerName),
      (err) => isFleetgateError(err, 'ERR_FG_INVALID_CONFIG'),
    );
  });
});
