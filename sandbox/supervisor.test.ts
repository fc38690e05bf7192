import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import { FAKE_SERVICE_ENTRY, nodeEntry } from './paths.js';
import { pidAlive } from './state-file.js';
import { delay, ManagedChild, nodeChildSpec } from './supervisor.js';

async function waitGone(pid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!pidAlive(pid)) return true;
    await delay(25);
  }
  return !pidAlive(pid);
}

describe('supervisor', () => {
  const dir = mkdtempSync(join(tmpdir(), 'gw-sandbox-sup-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('stop() takes down the whole process group, grandchildren included', async () => {
    const child = new ManagedChild({
      name: 'sh',
      command: 'sh',
      args: ['-c', 'sleep 30 & echo $!; wait'],
      logFile: join(dir, 'sh.log'),
      onStdoutLine: (line) => {
        if (/^\d+$/.test(line)) grandchild = Number(line);
      },
    });
    let grandchild: number | undefined;
    await child.start();
    await child.waitUntil(async () => grandchild !== undefined, 5000, 'reporting its child');
    const exit = await child.stop(2000);
    assert.equal(exit?.requested, true);
    assert.equal(child.running, false);
    assert.ok(await waitGone(grandchild as number, 2000), 'the grandchild is gone too');
  });

  it('kill() is a crash: SIGKILL, reported as requested', async () => {
    const child = new ManagedChild({ name: 'sleep', command: 'sleep', args: ['30'], logFile: join(dir, 'sleep.log') });
    await child.start();
    const exit = await child.kill();
    assert.deepEqual(exit, { code: null, signal: 'SIGKILL', requested: true });
  });

  it('a child that dies before it is ready fails with the tail of its log', async () => {
    const child = new ManagedChild({
      name: 'broken',
      command: 'sh',
      args: ['-c', 'echo "cannot bind port" >&2; exit 3'],
      logFile: join(dir, 'broken.log'),
      ipc: true,
    });
    await child.start();
    await assert.rejects(
      child.waitForMessage(() => undefined, 5000),
      /broken exited \(code 3\) before it was ready[\s\S]*cannot bind port/,
    );
  });

  it('a Node child stops by itself when its supervisor is killed with SIGKILL (no orphans)', {
    timeout: 30_000,
  }, async () => {
    // An intermediate "supervisor" starts a fake service (pointing at a gateway that never answers, so it runs until told otherwise).
    const supervisorCode = `
      import { ManagedChild, nodeChildSpec } from ${JSON.stringify(pathToFileURL(join(import.meta.dirname, 'supervisor.ts')).href)};
      const spec = nodeChildSpec('fake', ${JSON.stringify(FAKE_SERVICE_ENTRY)}, [], {
        GW_FAKE_SPEC: JSON.stringify({ service: 'orphan', instanceId: 'orphan-1', port: 0, gateways: ['http://127.0.0.1:1'], routes: [] }),
      }, ${JSON.stringify(join(dir, 'fake.log'))});
      const child = new ManagedChild(spec);
      await child.start();
      await child.waitForMessage((m) => (m.type === 'listening' ? m : undefined), 20000);
      console.log(child.pid);
      setInterval(() => {}, 1000);
    `;
    const tsx = nodeEntry(FAKE_SERVICE_ENTRY).args.slice(0, -1);
    const sup = spawn(process.execPath, [...tsx, '--input-type=module', '-e', supervisorCode], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const fakePid = await new Promise<number>((resolve, reject) => {
      sup.stdout.on('data', (c: Buffer) => {
        const n = Number(String(c).trim());
        if (Number.isInteger(n) && n > 0) resolve(n);
      });
      sup.once('exit', (code) => reject(new Error(`supervisor exited ${code}`)));
    });
    assert.ok(pidAlive(fakePid));
    sup.kill('SIGKILL');
    assert.ok(await waitGone(fakePid, 10_000), 'the fake service noticed and exited');
  });

  it('nodeChildSpec preloads parent-watch and opens IPC', () => {
    const spec = nodeChildSpec('x', FAKE_SERVICE_ENTRY, ['--a'], {}, '/tmp/x.log');
    assert.equal(spec.ipc, true);
    assert.ok(spec.args.some((a) => a.endsWith('parent-watch.ts') || a.endsWith('parent-watch.js')));
    assert.equal(spec.args.at(-1), '--a');
  });
});
