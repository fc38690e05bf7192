/**
 * Chooses how the store runs (`--provider auto|local|testcontainers`) and says so. `auto`
 * prefers local binaries (instant, no image pull) and falls back to a container runtime; when
 * neither exists the error names the package to install.
 */
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import { FleetgateError } from '../../lib/errors.js';
import type { SandboxBackend } from '../state-file.js';
import type { ProviderChoice, RunningStore, StoreProviderName } from './store.js';

/** The local binaries and Debian/Ubuntu packages each backend needs. */
const NEEDS: Record<Exclude<SandboxBackend, 'memory'>, { binaries: string[]; apt: string; image: boolean }> = {
  redis: { binaries: ['redis-server'], apt: 'redis-server', image: true },
  'redis-cluster': { binaries: ['redis-server', 'redis-cli'], apt: 'redis-server redis-tools', image: false },
  etcd: { binaries: ['etcd'], apt: 'etcd-server', image: true },
};

/** Options for {@link startStore}. */
export interface StartStoreOptions {
  logDir: string;
  print: (line: string) => void;
}

/**
 * Starts the store for `backend` with the chosen provider.
 * @throws FleetgateError `ERR_FG_INVALID_CONFIG` when no provider can run it, with the install command.
 */
export async function startStore(
  backend: Exclude<SandboxBackend, 'memory'>,
  choice: ProviderChoice,
  options: StartStoreOptions,
): Promise<RunningStore> {
  const provider = await chooseStoreProvider(backend, choice, options.print);
  // Loaded only here: the memory path must not need the harness (or testcontainers) at all.
  const { startHarnessStore } = await import('./harness-store.js');
  return startHarnessStore(backend, provider);
}

/**
 * Decides between local binaries and testcontainers, printing the decision.
 * @throws FleetgateError when neither works, naming the apt package and the runtime alternative.
 */
export async function chooseStoreProvider(
  backend: Exclude<SandboxBackend, 'memory'>,
  choice: ProviderChoice,
  print: (line: string) => void,
): Promise<Exclude<StoreProviderName, 'memory'>> {
  const need = NEEDS[backend];
  const missing = need.binaries.filter((b) => findOnPath(b) === undefined);
  const install = `sudo apt-get install -y ${need.apt}`;
  if (choice === 'local' || (choice === 'auto' && missing.length === 0)) {
    if (missing.length > 0) {
      throw new FleetgateError(
        'ERR_FG_INVALID_CONFIG',
        `--provider local: ${missing.join(', ')} not found on PATH. Install with:\n  ${install}`,
        { details: { missing, install } },
      );
    }
    print(`provider: local ${need.binaries.join(' + ')} (${need.binaries.map((b) => findOnPath(b)).join(', ')})`);
    return 'local';
  }
  if (!need.image) {
    throw new FleetgateError(
      'ERR_FG_INVALID_CONFIG',
      `${backend} runs from local binaries only, and ${missing.join(', ')} ${missing.length === 1 ? 'is' : 'are'} not on PATH. Install with:\n  ${install}`,
      { details: { missing, install } },
    );
  }
  const runtime = await detectContainerRuntime();
  if (runtime.ok) {
    print(
      `provider: testcontainers (${runtime.description})${missing.length > 0 ? `; ${missing.join(', ')} not on PATH` : ''}`,
    );
    return 'testcontainers';
  }
  const why = choice === 'testcontainers' ? '--provider testcontainers' : `${missing.join(', ')} not on PATH`;
  throw new FleetgateError(
    'ERR_FG_INVALID_CONFIG',
    `cannot run ${backend}: ${why}, and no container runtime answered (${runtime.reason}).\n` +
      `Install the server with:\n  ${install}\nor start Docker/Podman and use --provider testcontainers.\n` +
      `Or run without a store: gw-sandbox up --backend memory`,
    { details: { missing, install, runtime: runtime.reason } },
  );
}

/** The absolute path of an executable on PATH, or `undefined`. */
export function findOnPath(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir === '') continue;
    try {
      accessSync(join(dir, name), constants.X_OK);
      return join(dir, name);
    } catch {
      // Not in this directory.
    }
  }
  return undefined;
}

async function detectContainerRuntime(): Promise<{ ok: true; description: string } | { ok: false; reason: string }> {
  try {
    const { containerRuntime } = await import('../../e2e/harness/container-runtime.js');
    const status = await containerRuntime();
    return status.available ? { ok: true, description: status.description } : { ok: false, reason: status.reason };
  } catch (err) {
    // testcontainers is a dev dependency: an installed package may not have it.
    return { ok: false, reason: `testcontainers unavailable: ${err instanceof Error ? err.message : String(err)}` };
  }
}
