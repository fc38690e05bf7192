/** The `fleetgate` bin answers `--help` and `--version` and exits 0 without starting a gateway; a stray argument exits 2. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { packageVersion } from '../lib/version.js';
import { FLEETGATE_BIN, FLEETGATE_ROOT, fleetgateEnv } from './support/gateway-process.js';

function run(...args: string[]) {
  return spawnSync(process.execPath, ['--import', 'tsx', FLEETGATE_BIN, ...args], {
    cwd: FLEETGATE_ROOT,
    env: fleetgateEnv({ PORT: '0' }),
    encoding: 'utf8',
    timeout: 60_000,
  });
}

describe('fleetgate bin flags', () => {
  it('--version prints the package version', () => {
    const r = run('--version');
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, `${packageVersion()}\n`);
  });

  it('--help prints usage and the variables, and does not listen', () => {
    const r = run('--help');
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^Usage: fleetgate/);
    assert.match(r.stdout, /TRACE_URL/);
    assert.doesNotMatch(r.stdout, /listening/);
  });

  it('an unknown argument exits 2 with a message', () => {
    const r = run('--port', '80');
    assert.equal(r.status, 2);
    assert.match(r.stderr, /unknown argument/);
  });
});
