/**
 * The `fleetgate` bin serves on bare node:http: no module of the library (tests aside) imports
 * Express, so none can be on the bin's request path. Express stays a dev dependency for the
 * "inside Express" mode, which users bring themselves.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const LIB = fileURLToPath(new URL('..', import.meta.url));

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return sources(path);
    return e.name.endsWith('.ts') && !/\.test(-kit)?\.ts$/.test(e.name) ? [path] : [];
  });
}

describe('fleetgate bin', () => {
  it('has no Express anywhere in the library it runs', () => {
    const files = sources(LIB);
    assert.ok(
      files.some((f) => f.endsWith(join('bin', 'fleetgate.ts'))),
      'the scan sees the bin',
    );
    const importers = files.filter((f) => /(?:from\s+|import\s*\(\s*)['"]express['"]/.test(readFileSync(f, 'utf8')));
    assert.deepEqual(importers, []);
  });
});
