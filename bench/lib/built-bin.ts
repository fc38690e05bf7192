/**
 * The `fleetgate` bin as users run it: compiled JavaScript under plain `node`, not the source under
 * tsx (whose loader alone adds tens of MB of RSS and its own CPU). Benches build it into a
 * temporary directory of their own, so they never race another build of `dist/`, or take a
 * prebuilt one from `FLEETGATE_BENCH_DIST` (the outDir of `tsc -p tsconfig.build.json`).
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FLEETGATE_ROOT } from '../../e2e/support/gateway-process.js';

/** A built bin and how to clean it up. */
export interface BuiltBin {
  /** Path of `lib/bin/fleetgate.js`. */
  bin: string;
  /** Where it came from, for the bench's header. */
  origin: string;
  /** Removes the temporary build (a prebuilt one is left alone). */
  dispose(): void;
}

/**
 * Builds the bin (or takes `FLEETGATE_BENCH_DIST`). The build directory gets a copy of the
 * package.json (ESM, and the name and version the bin reports) and a link to node_modules, so the
 * compiled files resolve their dependencies as they would from `dist/`.
 * @example const built = builtBin(); startGateway(env, { builtBin: built.bin }); built.dispose();
 */
export function builtBin(): BuiltBin {
  const prebuilt = process.env.FLEETGATE_BENCH_DIST;
  if (prebuilt !== undefined && prebuilt !== '') {
    const bin = join(prebuilt, 'lib', 'bin', 'fleetgate.js');
    if (!existsSync(bin)) throw new Error(`FLEETGATE_BENCH_DIST=${prebuilt} has no lib/bin/fleetgate.js`);
    prepare(prebuilt);
    return { bin, origin: `prebuilt ${prebuilt}`, dispose: () => {} };
  }
  const out = mkdtempSync(join(tmpdir(), 'fleetgate-bench-'));
  execFileSync(
    process.execPath,
    [join(FLEETGATE_ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.build.json', '--outDir', out],
    { cwd: FLEETGATE_ROOT, stdio: 'inherit' },
  );
  prepare(out);
  return {
    bin: join(out, 'lib', 'bin', 'fleetgate.js'),
    origin: `built from this tree into ${out}`,
    dispose: () => rmSync(out, { recursive: true, force: true }),
  };
}

function prepare(dir: string): void {
  if (!existsSync(join(dir, 'package.json')))
    copyFileSync(join(FLEETGATE_ROOT, 'package.json'), join(dir, 'package.json'));
  if (!existsSync(join(dir, 'node_modules')))
    symlinkSync(join(FLEETGATE_ROOT, 'node_modules'), join(dir, 'node_modules'));
}
