import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, describe, it } from 'node:test';
import { pidAlive, readState, removeState, type SandboxState, stateFilePath, writeState } from './state-file.js';

describe('state file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'gw-sandbox-state-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('defaults to .gw-sandbox/state.json in the working directory; GW_SANDBOX_STATE overrides', () => {
    assert.equal(stateFilePath({}, '/work/x'), '/work/x/.gw-sandbox/state.json');
    assert.equal(stateFilePath({ GW_SANDBOX_STATE: 'run/s.json' }, '/work/x'), resolve('/work/x', 'run/s.json'));
    assert.equal(stateFilePath({ GW_SANDBOX_STATE: '  ' }, '/work/x'), '/work/x/.gw-sandbox/state.json');
  });

  it('round-trips, creates its directory, and reads a missing or broken file as none', () => {
    const path = join(dir, 'nested', 'state.json');
    assert.equal(readState(path), undefined);
    const state: SandboxState = {
      version: 1,
      pid: process.pid,
      startedAt: new Date().toISOString(),
      phase: 'running',
      backend: 'memory',
      provider: 'memory',
      fleetFile: '/f.yaml',
      controlUrl: 'http://127.0.0.1:1',
      gatewayUrls: [],
      logDir: dir,
      processes: [{ role: 'gateway', name: 'gateway-1', pid: 1, status: 'running' }],
    };
    writeState(path, state);
    assert.deepEqual(readState(path), state);
    removeState(path);
    assert.equal(readState(path), undefined);
    removeState(path);
  });

  it('pidAlive: this process yes, an exited child no', async () => {
    assert.equal(pidAlive(process.pid), true);
    assert.equal(pidAlive(undefined), false);
    assert.equal(pidAlive(-1), false);
    const child = spawn(process.execPath, ['-e', '0']);
    const pid = child.pid as number;
    await new Promise((r) => child.once('exit', r));
    assert.equal(pidAlive(pid), false);
  });
});
