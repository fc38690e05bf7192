/**
 * Where the sandbox finds its own files. Everything resolves from this file's location, never
 * from the working directory, so `npx gw-sandbox` works from a clone (TypeScript run through
 * tsx) and from an installed package (compiled JavaScript under `dist/`) alike.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const HERE = dirname(fileURLToPath(import.meta.url));

/** True when the sandbox runs from TypeScript sources (a clone, through tsx) rather than from `dist/`. */
export const RUNNING_FROM_SOURCE = fileURLToPath(import.meta.url).endsWith('.ts');

/** The package root: the nearest directory upwards holding the `fleetgate` package.json. */
export const PACKAGE_ROOT: string = findPackageRoot(HERE);

function findPackageRoot(start: string): string {
  let dir = start;
  for (;;) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg)) {
      try {
        if ((JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string }).name === 'fleetgate') return dir;
      } catch {
        // A broken package.json further down is not ours; keep walking.
      }
    }
    const parent = dirname(dir);
    if (parent === dir) return resolve(HERE, RUNNING_FROM_SOURCE ? '..' : '../..');
    dir = parent;
  }
}

/** The fleet file `up` uses when `--fleet` is not given (shipped with the package). */
export const DEFAULT_FLEET_FILE = join(PACKAGE_ROOT, 'fixtures', 'fleet.yaml');

/** The directory of drill scenario files (shipped with the package). */
export const SCENARIOS_DIR = join(PACKAGE_ROOT, 'fixtures', 'scenarios');

/**
 * The command that runs one of the package's own entry points in a child process.
 * `sourceRelative` is the path of the `.ts` file from the package root, e.g. `lib/bin/fleetgate.ts`.
 * From source it runs through tsx (resolved absolutely, so the child's cwd does not matter);
 * from a build it runs the compiled file under `dist/`.
 */
export function nodeEntry(sourceRelative: string): { command: string; args: string[] } {
  if (isAbsolute(sourceRelative)) {
    // A user's own entry point (GW_SANDBOX_GATEWAY_BIN): TypeScript runs through tsx, JavaScript as is.
    return /\.[cm]?ts$/.test(sourceRelative)
      ? { command: process.execPath, args: ['--import', tsxLoaderUrl(), sourceRelative] }
      : { command: process.execPath, args: [sourceRelative] };
  }
  if (RUNNING_FROM_SOURCE) {
    return { command: process.execPath, args: ['--import', tsxLoaderUrl(), join(PACKAGE_ROOT, sourceRelative)] };
  }
  const built = join(PACKAGE_ROOT, 'dist', sourceRelative.replace(/\.ts$/, '.js'));
  return { command: process.execPath, args: [built] };
}

let tsxUrl: string | undefined;
function tsxLoaderUrl(): string {
  tsxUrl ??= pathToFileURL(createRequire(join(PACKAGE_ROOT, 'package.json')).resolve('tsx')).href;
  return tsxUrl;
}

/** The gateway bin (`fleetgate`). */
export const FLEETGATE_ENTRY = 'lib/bin/fleetgate.ts';

/**
 * The gateway entry point to run: `$GW_SANDBOX_GATEWAY_BIN` (an absolute or cwd-relative .js/.ts
 * file: your own gateway built on fleetgate, rehearsed the same way), else the `fleetgate` bin.
 * A replacement must read `PORT`/`HOST` and the `REGISTRY_*` variables, serve `GET /health` and
 * the registration API, and print `fleetgate listening on http://host:port` once it listens.
 */
export function gatewayEntry(env: NodeJS.ProcessEnv = process.env): string {
  const custom = env.GW_SANDBOX_GATEWAY_BIN?.trim();
  return custom ? resolve(custom) : FLEETGATE_ENTRY;
}
/** The fake service entry point. */
export const FAKE_SERVICE_ENTRY = 'sandbox/fake-service/main.ts';
/** The sandbox CLI itself (re-run detached by `up --detach`). */
export const SANDBOX_ENTRY = 'sandbox/bin/gw-sandbox.ts';
