/**
 * Chooses how the store runs (`--provider auto|local|testcontainers`) and says so. `auto`
 * prefers a container runtime when one answers and falls back to local binaries; when neither
 * exists the error names the package to install.
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
 * Decides between testcontainers and local binaries, printing the decision. `auto` uses
 * testcontainers when a container runtime answers (its check fails in milliseconds when there is
 * none) and falls back to local binaries, saying why.
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
  let runtimeReason = 'not tried';
  if (choice === 'testcontainers' || (choice === 'auto' && need.image)) {
    if (!need.image) {
      throw new FleetgateError(
        'ERR_FG_INVALID_CONFIG',
        `${backend} runs from local binaries only (cluster nodes announce addresses a host client cannot reach from a container). Install with:\n  ${install}`,
        { details: { install } },
      );
    }
    const runtime = await detectContainerRuntime();
    if (runtime.ok) {
      print(`provider: testcontainers (${runtime.description})`);
      return 'testcontainers';
    }
    runtimeReason = runtime.reason;
    if (choice === 'testcontainers') {
      throw new FleetgateError(
        'ERR_FG_INVALID_CONFIG',
        `--provider testcontainers: no container runtime answered (${runtime.reason}). Start Docker/Podman, or use --provider local after:\n  ${install}`,
        { details: { runtime: runtime.reason } },
      );
    }
    print(`provider: no container runtime (${runtime.reason}); falling back to local binaries`);
  }
  if (missing.length === 0) {
    print(`provider: local ${need.binaries.join(' + ')} (${need.binaries.map((b) => findOnPath(b)).join(', ')})`);
    return 'local';
  }
  const why = choice === 'local' ? '--provider local' : `no container runtime (${runtimeReason})`;
  throw new FleetgateError(
    'ERR_FG_INVALID_CONFIG',
    `cannot run ${backend}: ${why}, and ${missing.join(', ')} ${missing.length === 1 ? 'is' : 'are'} not on PATH.\n` +
      `Install the server with:\n  ${install}\nor start Docker/Podman and use --provider testcontainers.\n` +
      `Or run without a store: gw-sandbox up --backend memory`,
    { details: { missing, install, runtime: runtimeReason } },
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
    const { containerRuntime } = await import('../servers/container-runtime.js');
    const status = await containerRuntime();
    return status.available ? { ok: true, description: status.description } : { ok: false, reason: status.reason };
  } catch (err) {
    // testcontainers is a dev dependency: an installed package may not have it.
    return { ok: false, reason: `testcontainers unavailable: ${err instanceof Error ? err.message : String(err)}` };
  }
}
