import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const BIN = join(ROOT, 'lib/bin/fleetgate.ts');

interface Running {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Starts the bin with a clean fleetgate environment plus `extra`. */
function startBin(extra: Record<string, string>): Running {
  const env: Record<string, string | undefined> = { ...process.env };
  for (const key of Object.keys(env)) {
    if (/^(REGISTRY_|HEALTH_|ERUGATEWAYPORT$|PORT$|HOST$|TRACE_URL$|LOG_LEVEL$)/.test(key)) delete env[key];
  }
  const child = spawn(process.execPath, ['--import', 'tsx', BIN], {
    cwd: ROOT,
    env: { ...env, ...extra },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout!.setEncoding('utf8').on('data', (s: string) => {
    out += s;
  });
  child.stderr!.setEncoding('utf8').on('data', (s: string) => {
    err += s;
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }));
  });
  return { child, stdout: () => out, stderr: () => err, exited };
}

/** Resolves with `fn()`'s first truthy value; rejects after `ms` with `what`. */
async function waitFor<T>(what: string, ms: number, fn: () => T | undefined, exited?: Promise<unknown>): Promise<T> {
  const deadline = Date.now() + ms;
  let done = false;
  exited?.then(() => {
    done = true;
  });
  for (;;) {
    const value = fn();
    if (value) return value;
    if (done) throw new Error(`process exited while waiting for ${what}`);
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

async function within<T>(what: string, ms: number, promise: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

describe('fleetgate bin', () => {
  test('PORT=0: prints its port, registers, shows the service in /health, exits 0 on SIGTERM', async () => {
    const bin = startBin({ PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'warn' });
    try {
      const port = await waitFor(
        'the "listening" line',
        30_000,
        () => /fleetgate listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(bin.stdout())?.[1],
        bin.exited,
      );
      const base = `http://127.0.0.1:${port}`;
      const reg = await fetch(`${base}/internal/register-service`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          service: 'sagjan',
          url: 'http://127.0.0.1:7812',
          health_endpoint: '/health',
          routes: [{ method: 'GET', path: '/api/comments/*', permission: 'comments:read' }],
        }),
      });
      assert.equal(reg.status, 200);
      const registered = (await reg.json()) as { instance_id: string; ttl_ms: number };
      assert.equal(registered.ttl_ms, 90_000);

      const health = (await (await fetch(`${base}/health`)).json()) as {
        status: string;
        registry: { type: string };
        services: Record<string, { status: string; instances: { instance_id: string }[] }>;
      };
      assert.equal(health.status, 'healthy');
      assert.equal(health.registry.type, 'INMEMORY');
      assert.equal(health.services.sagjan?.status, 'UP');
      assert.equal(health.services.sagjan?.instances[0]?.instance_id, registered.instance_id);

      bin.child.kill('SIGTERM');
      // Well inside the 10 s grace: nothing is in flight, so shutdown must not wait it out.
      const exit = await within('exit after SIGTERM', 8_000, bin.exited);
      assert.deepEqual(exit, { code: 0, signal: null }, bin.stderr());
    } finally {
      if (bin.child.exitCode === null && bin.child.signalCode === null) bin.child.kill('SIGKILL');
      await bin.exited;
    }
  });

  test('REGISTRY_TTL=banana: exits 1 and names the variable on stderr', async () => {
    const bin = startBin({ PORT: '0', HOST: '127.0.0.1', REGISTRY_TTL: 'banana' });
    try {
      const exit = await within('exit on invalid config', 30_000, bin.exited);
      assert.equal(exit.code, 1);
      assert.match(bin.stderr(), /REGISTRY_TTL/);
      assert.doesNotMatch(bin.stdout(), /listening/);
    } finally {
      if (bin.child.exitCode === null && bin.child.signalCode === null) bin.child.kill('SIGKILL');
      await bin.exited;
    }
  });
});
