/**
 * Which provider runs the harness's servers: a container runtime through testcontainers when
 * one answers (what a Docker/Podman user gets), else the local binaries. Detection uses
 * testcontainers' own strategy chain with a short deadline and is done once per process.
 * `FLEETGATE_HARNESS_PROVIDER=local|testcontainers` forces one.
 */
import type { ContainerRuntimeClient } from 'testcontainers';
import { findBinary, skipOrThrow } from './binaries.js';
import { releasePorts } from './free-port.js';
import type { HarnessProvider } from './test-server.js';

/** The outcome of runtime detection. */
export type ContainerRuntimeStatus =
  | { available: true; client: ContainerRuntimeClient; description: string }
  | { available: false; reason: string };

/** How long detection may take before we call the runtime absent. @default 3000 */
export const RUNTIME_DETECT_TIMEOUT_MS = 3000;

let detection: Promise<ContainerRuntimeStatus> | undefined;

/** Detects a container runtime once per process (memoised). Never rejects. */
export function containerRuntime(): Promise<ContainerRuntimeStatus> {
  detection ??= detect();
  return detection;
}

async function detect(): Promise<ContainerRuntimeStatus> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`no answer within ${RUNTIME_DETECT_TIMEOUT_MS} ms`)),
      RUNTIME_DETECT_TIMEOUT_MS,
    );
    timer.unref();
  });
  try {
    const { getContainerRuntimeClient } = await import('testcontainers');
    const client = await Promise.race([getContainerRuntimeClient(), timeout]);
    return {
      available: true,
      client,
      description: `${client.info.containerRuntime.operatingSystem} at ${client.info.containerRuntime.host}`,
    };
  } catch (err) {
    return { available: false, reason: err instanceof Error ? err.message : String(err) };
  } finally {
    clearTimeout(timer);
  }
}

const announced = new Set<string>();

function announce(line: string): void {
  if (announced.has(line)) return;
  announced.add(line);
  console.error(line);
}

/** What {@link chooseProvider} decided. */
export type ProviderChoice = { provider: HarnessProvider; skip?: undefined } | { provider?: undefined; skip: string };

/**
 * Picks the provider for a server kind. Containers first (unless forced local or `image` is
 * undefined, i.e. the kind has no container path), then local binaries. When neither works the
 * result is a skip reason, or an Error in CI.
 * @param what e.g. `redis-server`, used in messages.
 * @param binaries the local binaries this kind needs.
 */
export async function chooseProvider(
  what: string,
  binaries: readonly string[],
  options: { containers: boolean } = { containers: true },
): Promise<ProviderChoice> {
  const forced = process.env.FLEETGATE_HARNESS_PROVIDER;
  if (forced !== undefined && forced !== '' && forced !== 'local' && forced !== 'testcontainers') {
    throw new Error(`FLEETGATE_HARNESS_PROVIDER=${forced}: expected local or testcontainers`);
  }
  const missing = binaries.filter((b) => findBinary(b) === undefined);
  const localProblem = missing.length === 0 ? undefined : `${missing.join(', ')} not found on PATH`;

  if (forced === 'local' || (forced !== 'testcontainers' && !options.containers)) {
    if (localProblem !== undefined) return { skip: skipOrThrow(`${what}: ${localProblem}`)! };
    return { provider: 'local' };
  }
  if (forced === 'testcontainers' && !options.containers) {
    return {
      skip: skipOrThrow(`${what}: no container path in the harness (FLEETGATE_HARNESS_PROVIDER=testcontainers)`)!,
    };
  }
  const runtime = await containerRuntime();
  if (runtime.available) {
    announce(`[harness] container runtime ${runtime.description}: using testcontainers for ${what}`);
    return { provider: 'testcontainers' };
  }
  if (forced === 'testcontainers') {
    return { skip: skipOrThrow(`${what}: no container runtime (${runtime.reason})`)! };
  }
  if (localProblem !== undefined) {
    return { skip: skipOrThrow(`${what}: no container runtime (${runtime.reason}) and ${localProblem}`)! };
  }
  announce(`[harness] no container runtime (${runtime.reason}): using local ${what}`);
  return { provider: 'local' };
}

/**
 * An idempotent stop for a started container: stops it (3 s grace) and gives its published port
 * back to the free-port pool.
 */
export function containerStopper(container: { stop(options: { timeout: number }): Promise<unknown> }, port: number) {
  let stopped = false;
  return async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    await container.stop({ timeout: 3 });
    releasePorts(port);
  };
}
