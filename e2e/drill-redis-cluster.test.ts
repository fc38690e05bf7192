/**
 * The drills of issue #14 that run on Redis Cluster, end to end: `gw-sandbox up --backend
 * redis-cluster` (three primaries, a replica each, local binaries) with two gateways, the drills
 * through the real CLI, one test per drill. Without redis-server the suite is skipped with the
 * reason on a laptop and fails under CI=true.
 */
import { after, before, describe, it } from 'node:test';
import { requireBinary } from '../sandbox/servers/binaries.js';
import { DrillSession } from './drill-kit.js';

const DRILLS = ['crash', 'cluster-failover'] as const;

describe('drills on the redis-cluster backend', { skip: requireBinary('redis-server'), timeout: 300_000 }, () => {
  const session = new DrillSession();
  before(async () => {
    await session.up(['--backend', 'redis-cluster', '--gateways', '2', '--provider', 'local']);
    await session.drill(DRILLS, 'redis-cluster');
  });
  after(() => session.down());

  for (const name of DRILLS) it(`drill ${name} PASSes`, () => void session.assertPass(name));
});
