/**
 * The gw-sandbox CLI end to end, as a user runs it: `up --detach` → `status` → `crash` →
 * `restart` → `drill` → `down`, then proof that no process is left and every port is free.
 * The same on a local Redis is in e2e/sandbox-cli-redis.test.ts (a file of its own, so each
 * fleet gets the whole per-file time budget).
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { SandboxCli } from './sandbox-kit.js';

describe('gw-sandbox with the memory backend', () => {
  const cli = new SandboxCli();
  after(() => cli.cleanup());

  it('up --detach starts the fleet, prints progress and the table, and returns', { timeout: 60_000 }, async () => {
    const up = await cli.run(['up', '--detach']);
    assert.equal(up.code, 0, `up failed:\n${up.stdout}\n${up.stderr}`);
    assert.match(up.stdout, /✓ gateway-1 +http:\/\/127\.0\.0\.1:\d+ \(pid \d+\) +\d+ ms/);
    assert.match(up.stdout, /✓ orders-1 +http:\/\/127\.0\.0\.1:\d+/);
    assert.match(up.stdout, /^ROLE +NAME +PID +URL +STATUS$/m);
    assert.match(up.stdout, /dashboard +http:\/\/127\.0\.0\.1:\d+/);
    const state = cli.state();
    assert.ok(state !== undefined && state.phase === 'running');
    assert.deepEqual(
      state.processes.map((p) => p.name),
      ['gateway-1', 'orders-1', 'orders-2', 'users-1', 'users-2', 'catalog-1'],
    );
  });

  it('status shows every process running and registered', { timeout: 30_000 }, async () => {
    const status = await cli.run(['status']);
    assert.equal(status.code, 0, status.stderr);
    assert.match(status.stdout, /backend memory/);
    for (const name of ['gateway-1', 'orders-1', 'orders-2', 'users-1', 'users-2', 'catalog-1']) {
      assert.match(status.stdout, new RegExp(`\\b${name} +\\d+ +http://127\\.0\\.0\\.1:\\d+ +running`));
    }
    assert.match(status.stdout, /orders-1 .* running +UP/);
  });

  it('crash <instance> kills it; restart <service> brings every instance back on a new pid', {
    timeout: 60_000,
  }, async () => {
    const oldPid = cli.state()?.processes.find((p) => p.name === 'orders-1')?.pid;
    const crash = await cli.run(['crash', 'orders-1']);
    assert.equal(crash.code, 0, crash.stderr);
    assert.match(crash.stdout, /✓ crashed orders-1 \(kill -9\)/);
    assert.equal(cli.state()?.processes.find((p) => p.name === 'orders-1')?.status, 'crashed');

    const restart = await cli.run(['restart', 'orders']);
    assert.equal(restart.code, 0, restart.stderr);
    assert.match(restart.stdout, /✓ restarted orders-1, orders-2 in \d+ ms/);
    const restarted = cli.state()?.processes.find((p) => p.name === 'orders-1');
    assert.equal(restarted?.status, 'running');
    assert.notEqual(restarted?.pid, oldPid);
  });

  it('drill a,b,c: each PASSes, store-outage SKIPs (no store), one table, exit 0', { timeout: 120_000 }, async () => {
    const drill = await cli.run(
      [
        'drill',
        'crash,re-registration,restart-gateway,store-outage,thundering-herd',
        '--param',
        'thundering-herd.size=30',
      ],
      120_000,
    );
    const out = drill.stdout;
    assert.match(out, /^SKIP store-outage/m, out);
    assert.match(out, /applies to redis, etcd, not memory/);
    assert.match(out, /^# +DRILL +RESULT +TIME +INVARIANT +MEASURED$/m);
    assert.match(out, /^PASS /m, out);
    for (const name of ['crash', 're-registration', 'restart-gateway', 'thundering-herd']) {
      assert.match(out, new RegExp(`^[-\\d]+ +${name} +PASS `, 'm'), `${name} must PASS:\n${out}`);
    }
    assert.equal(drill.code, 0, `drill all exits 0 when nothing FAILs:\n${out}\n${drill.stderr}`);
  });

  it('down stops everything: no recorded pid left, every port free, no state file', { timeout: 60_000 }, async () => {
    cli.state();
    const down = await cli.run(['down']);
    assert.equal(down.code, 0, down.stderr);
    assert.match(down.stdout, /✓ stopped \d+ process(es)? in \d+ ms.*no process left, \d+ ports free/);
    assert.equal(cli.state(), undefined, 'down removes the state file');
    assert.deepEqual(await cli.leftovers(), { pids: [], ports: [] });
  });
});
