/**
 * `createRegistry()`: the one-call way to get a ready {@link Registry}, with the backend chosen
 * by `REGISTRY_TYPE` when none is given (README "The standalone gateway").
 */
import { parseEnv } from '../config/env.js';
import { dropUndefined } from '../core/options-merge.js';
import { backendFromEnv } from './backends/from-env.js';
import type { RegistryBackend } from './model.js';
import { Registry } from './registry.js';
import type { RegistryOptions } from './registry-options.js';

/** Options for {@link createRegistry}: every {@link RegistryOptions} field, all optional, plus `env`. */
export interface CreateRegistryOptions extends Partial<Omit<RegistryOptions, 'backend'>> {
  /** The store; when absent it is built from the environment and closed with the registry. */
  backend?: RegistryBackend;
  /** Environment to read `REGISTRY_*` from. @default process.env */
  env?: Record<string, string | undefined>;
}

/**
 * Creates a registry and waits for its initial fill. Without `backend`, `REGISTRY_TYPE`,
 * `REGISTRY_TTL`, `REGISTRY_PRESERVE_THRESHOLD`, `REGISTRY_LIST_TIMEOUT` and the `REGISTRY_MAX_*` limits are read from `env` (explicit options win)
 * and the registry owns (closes) the backend it built.
 * @example
 * await using registry = await createRegistry(); // INMEMORY unless REGISTRY_TYPE says otherwise
 * @throws FleetgateError `ERR_FG_INVALID_CONFIG` for an invalid variable, `ERR_FG_STORE_UNAVAILABLE` if the store is down.
 */
export async function createRegistry(options: CreateRegistryOptions = {}): Promise<Registry> {
  const { backend, env, ...rest } = options;
  let registry: Registry;
  if (backend !== undefined) {
    registry = new Registry({ ...rest, backend });
  } else {
    const parsed = parseEnv(env ?? process.env);
    const built = await backendFromEnv(parsed, rest.clock === undefined ? {} : { clock: rest.clock });
    registry = new Registry({
      ttlMs: parsed.registryTtlMs,
      preserveThreshold: parsed.preserveThreshold,
      maxInstances: parsed.maxInstances,
      maxInstancesPerService: parsed.maxInstancesPerService,
      maxRoutesPerService: parsed.maxRoutesPerService,
      listTimeoutMs: parsed.registryListTimeoutMs,
      ownsBackend: true,
      ...dropUndefined(rest),
      backend: built,
    });
  }
  try {
    await registry.ready();
  } catch (err) {
    await registry.close();
    throw err;
  }
  return registry;
}
