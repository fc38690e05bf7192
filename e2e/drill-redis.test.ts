/**
 * The drills of issue #14 that need Redis, end to end: `gw-sandbox up --backend redis` with
 * three gateways on a local redis-server, the drills through the real CLI, one test per drill.
 * Without redis-server the suite is skipped with the reason on a laptop and fails under CI=true.
 */
import { after, before, describe, it } from 'node:test';
import { requireBinary } from '../sandbox/servers/binaries.js';
import { DrillSession } from './drill-kit.js';

const DRILLS = [
  'gateway-sigterm',
  'crash',
  'store-outage',
  'thundering-herd',
  'store-partition',
  'shared-rate-limit',
] as const;

describe('drills on the redis backend', { skip: requireBinary('redis-server'), timeout: 400_000 }, () => {
  const session = new DrillSession();
  before(async () => {
    await session.up(['--backend', 'redis', '--gateways', '3', '--provider', 'local']);
    await session.drill(DRILLS, 'redis');
  });
  after(() => session.down());

  for (const name of DRILLS) it(`drill ${name} PASSes`, () => void session.assertPass(name));
});
