/** `fleetgate --help` / `--version`: what is printed, and that anything else is refused. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { packageVersion } from '../version.js';
import { HELP_TEXT, handleCliFlags } from './cli-flags.js';

describe('fleetgate flags', () => {
  it('prints the help and the version', () => {
    for (const flag of ['--help', '-h']) {
      const out: string[] = [];
      assert.equal(
        handleCliFlags([flag], (t) => out.push(t)),
        true,
      );
      assert.deepEqual(out, [HELP_TEXT]);
    }
    for (const flag of ['--version', '-v']) {
      const out: string[] = [];
      assert.equal(
        handleCliFlags([flag], (t) => out.push(t)),
        true,
      );
      assert.deepEqual(out, [`${packageVersion()}\n`]);
    }
  });

  it('without arguments starts the gateway; anything else is refused with a message', () => {
    const none = (): void => assert.fail('nothing is printed');
    assert.equal(handleCliFlags([], none), false);
    for (const bad of [['--port', '80'], ['serve'], ['--help', '--version']]) {
      const refusal = handleCliFlags(bad, none);
      assert.equal(typeof refusal, 'string');
      assert.match(refusal as string, /unknown argument/);
    }
  });

  it('the help names every variable the environment parser reads', async () => {
    const { readFile } = await import('node:fs/promises');
    const source = await readFile(new URL('../config/env.ts', import.meta.url), 'utf8');
    const names = new Set(source.match(/\b(?:REGISTRY|HEALTH|ADMIN|SERVER|SHUTDOWN|GATEWAY)_[A-Z_]+\b/g));
    for (const extra of ['PORT', 'HOST', 'TRACE_URL', 'LOG_LEVEL', 'TRUSTED_PROXIES', 'PANIC_THRESHOLD'])
      names.add(extra);
    names.delete('REGISTRY_TYPES');
    for (const name of names) assert.ok(HELP_TEXT.includes(name), `--help mentions ${name}`);
  });
});
