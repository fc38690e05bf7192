/**
 * The drills of issue #14 that run on the memory backend, end to end: a real `gw-sandbox up`
 * (a real `fleetgate` bin, real fake-service processes), the drills through the real CLI, one
 * test per drill asserting it PASSed (the message lists each invariant with its measured value).
 */
import { after, before, describe, it } from 'node:test';
import { DrillSession } from './drill-kit.js';

const DRILLS = [
  'gateway-sigterm',
  'crash',
  'slow-upstream',
  'half-open-upstream',
  'retry-body',
  'websocket-restart',
  'flapping-health',
] as const;

describe('drills on the memory backend', { timeout: 400_000 }, () => {
  const session = new DrillSession();
  before(async () => {
    await session.up(['--backend', 'memory']);
    await session.drill(DRILLS, 'memory');
  });
  after(() => session.down());

  for (const name of DRILLS) it(`drill ${name} PASSes`, () => void session.assertPass(name));
});
