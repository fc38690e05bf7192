/**
 * The bin loads a dependency only when its setup uses it (lib/bin/fleetgate.ts): an in-memory
 * gateway without a config file, tracing or a service-keys file never loads a store client
 * (ioredis, etcd3), the config file's reader and policy (yaml, jose) or the tracing SDK. Each
 * costs resident memory at start whether used or not (ioredis alone ~18 MB; docs/scale.md).
 *
 * The child records every module it loads: an ESM resolve hook sees each import (a CommonJS
 * package's entry included), and at exit the CommonJS cache lists what `require` loaded. A control
 * run with a config file shows the recorder sees the packages the memory run must not load.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { startGateway } from './support/gateway-process.js';

/** Runs in the hooks thread: appends each resolved URL to the file named by FLEETGATE_TEST_LOADED. */
const HOOKS = `
import { appendFileSync } from 'node:fs';
export async function resolve(specifier, context, next) {
  const resolved = await next(specifier, context);
  appendFileSync(process.env.FLEETGATE_TEST_LOADED, resolved.url + '\\n');
  return resolved;
}`;

/** Preloaded into the child: installs the hooks, and lists the CommonJS cache when it exits. */
const PRELOAD = `
import { register, createRequire } from 'node:module';
import { appendFileSync } from 'node:fs';
register('data:text/javascript,' + encodeURIComponent(${JSON.stringify(HOOKS)}));
const cache = createRequire(process.cwd() + '/').cache;
process.on('exit', () => appendFileSync(process.env.FLEETGATE_TEST_LOADED, Object.keys(cache).join('\\n') + '\\n'));`;

const NODE_ARGS = ['--import', `data:text/javascript,${encodeURIComponent(PRELOAD)}`];

/** Packages a memory-store gateway never uses. */
const UNUSED = ['ioredis', 'etcd3', '@grpc/grpc-js', 'jose', 'yaml', '@opentelemetry/sdk-node'];

const dir = mkdtempSync(join(tmpdir(), 'fleetgate-lazy-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** The packages (under node_modules) the bin loaded with `env`, up to a graceful stop. */
async function packagesLoaded(name: string, env: Record<string, string>): Promise<Set<string>> {
  const log = join(dir, `${name}.txt`);
  writeFileSync(log, '');
  const gateway = await startGateway({ ...env, FLEETGATE_TEST_LOADED: log }, { name, nodeArgs: NODE_ARGS });
  const exit = await gateway.stop();
  assert.equal(exit.code, 0, gateway.output());
  const packages = new Set<string>();
  for (const line of readFileSync(log, 'utf8').split('\n')) {
    const m = /node_modules[/\\]((?:@[^/\\]+[/\\])?[^/\\]+)/.exec(line);
    if (m !== null) packages.add(m[1]!.replace('\\', '/'));
  }
  return packages;
}

describe('fleetgate bin: what it loads', () => {
  it('an in-memory gateway loads no store client, config-file reader, JWT library or tracing SDK', async () => {
    const loaded = await packagesLoaded('memory', { REGISTRY_TYPE: 'INMEMORY' });
    assert.ok(loaded.has('undici') && loaded.has('pino'), `the recorder saw the packages in use: ${[...loaded]}`);
    assert.deepEqual(
      UNUSED.filter((p) => loaded.has(p)),
      [],
    );
  });

  it('a gateway with a config file loads its reader and policy (the recorder sees them)', async () => {
    const config = join(dir, 'fleetgate.yaml');
    writeFileSync(config, 'routes: []\n');
    const loaded = await packagesLoaded('config', { REGISTRY_TYPE: 'INMEMORY', FLEETGATE_CONFIG: config });
    for (const p of ['yaml', 'jose', 'ioredis']) assert.ok(loaded.has(p), `${p} loaded: ${[...loaded]}`);
  });
});
