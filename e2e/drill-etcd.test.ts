/**
 * The drills of issue #14 that run on etcd, end to end: `gw-sandbox up --backend etcd` with two
 * gateways on a local etcd, the drills through the real CLI, one test per drill. Without etcd
 * the suite is skipped with the reason on a laptop and fails under CI=true.
 */
import { after, before, describe, it } from 'node:test';
import { requireBinary } from '../sandbox/servers/binaries.js';
import { DrillSession } from './drill-kit.js';

const DRILLS = ['crash', 'store-outage', 'store-partition'] as const;

describe('drills on the etcd backend', { skip: requireBinary('etcd'), timeout: 300_000 }, () => {
  const session = new DrillSession();
  before(async () => {
    await session.up(['--backend', 'etcd', '--gateways', '2', '--provider', 'local']);
    await session.drill(DRILLS, 'etcd');
  });
  after(() => session.down());

  for (const name of DRILLS) it(`drill ${name} PASSes`, () => void session.assertPass(name));
});
