/**
 * registerService: close(), asyncDispose and handleSignals deregister and stop every timer.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { FakeClock } from '../clock.js';
import { isFleetgateError } from '../errors.js';
import { freePort, gateway, register, until } from './register-service.test-kit.js';

describe('registerService', () => {
  it('close() deregisters, stops every timer, and is idempotent', async () => {
    const gw = await gateway();
    const clock = new FakeClock(0);
    const h = register(gw.url, clock);
    const { instanceId } = await h.ready;
    await Promise.all([h.close(), h.close()]);
    await h[Symbol.asyncDispose]();
    assert.equal(h.state, 'closed');
    assert.equal(gw.instances.has(instanceId), false);
    assert.equal(gw.count('DELETE', `/instances/${instanceId}`), 1);
    assert.equal(clock.pending, 0);
    await clock.advance(60_000);
    assert.equal(gw.count('PUT'), 0);
  });

  it('close({ deregister: false }) stops the handle and leaves the instance registered', async () => {
    const gw = await gateway();
    const clock = new FakeClock(0);
    const h = register(gw.url, clock);
    const { instanceId } = await h.ready;
    await h.close({ deregister: false });
    await h.close(); // the first call's options win: still no DELETE
    assert.equal(h.state, 'closed');
    assert.equal(gw.instances.has(instanceId), true);
    assert.equal(gw.count('DELETE'), 0);
    assert.equal(clock.pending, 0);
    await clock.advance(60_000);
    assert.equal(gw.count('PUT'), 0);
  });

  it('close() before the first registration rejects ready with ERR_FG_CLOSED and stops retrying', async () => {
    const port = await freePort();
    const clock = new FakeClock(0);
    const h = register(`http://127.0.0.1:${port}`, clock);
    let failures = 0;
    h.on('registration-failed', () => failures++);
    await until(() => failures === 1, 'first failure');
    await h.close();
    await assert.rejects(h.ready, (e: unknown) => isFleetgateError(e, 'ERR_FG_CLOSED'));
    assert.equal(clock.pending, 0);
  });
});

describe('handleSignals', () => {
  it('on SIGTERM deregisters, then the process dies of SIGTERM', async () => {
    const gw = await gateway();
    const entry = fileURLToPath(new URL('./register-service.ts', import.meta.url));
    const script = `
      import { registerService } from ${JSON.stringify(entry)};
      const h = registerService({ gateway: ${JSON.stringify(gw.url)}, service: 'sig', url: 'http://127.0.0.1:9', instanceId: 'i-sig', handleSignals: true });
      await h.ready;
      console.log('ready');
      setInterval(() => {}, 1000); // a busy service: only the signal ends it
    `;
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    try {
      let out = '';
      child.stdout.on('data', (d) => {
        out += d;
      });
      const exited = new Promise<NodeJS.Signals | null>((resolve) => child.once('exit', (_c, s) => resolve(s)));
      await until(() => out.includes('ready'), 'child registered', 20_000);
      child.kill('SIGTERM');
      assert.equal(await exited, 'SIGTERM');
      assert.equal(gw.count('DELETE', '/instances/i-sig'), 1);
      assert.equal(gw.instances.has('i-sig'), false);
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
  });
});
