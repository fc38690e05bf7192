/**
 * The registry store a sandbox fleet runs on, whichever way it is provided. The gateways only
 * see {@link RunningStore.gatewayEnv}; drills use `stop`/`start` to rehearse an outage.
 */
import type { SandboxBackend } from '../state-file.js';

/** How the store runs. `memory` has no store process at all (each gateway keeps its own registry). */
export type StoreProviderName = 'memory' | 'local' | 'testcontainers';

/** What `--provider` accepts. */
export type ProviderChoice = 'auto' | 'local' | 'testcontainers';

/** All of {@link ProviderChoice}. */
export const PROVIDER_CHOICES: readonly ProviderChoice[] = ['auto', 'local', 'testcontainers'];

/** A running store. */
export interface RunningStore {
  backend: SandboxBackend;
  provider: StoreProviderName;
  /** One line for humans: `redis-server 7.0.15 (local binary) at redis://127.0.0.1:6390`. */
  description: string;
  /** The address gateways are given, for display and the state file. */
  url: string;
  /** Variables handed to every gateway: `REGISTRY_TYPE` and the address variable. */
  gatewayEnv: Record<string, string>;
  /** Pids of local store processes, recorded so `down` can clean up after a dead supervisor. */
  pids(): number[];
  /** Simulated outage: the store goes away (hard kill), its address stays reserved. */
  stop(): Promise<void>;
  /** Brings it back on the same address after {@link stop}. */
  start(): Promise<void>;
  /** Deletes every registration (FLUSHALL / delete the key prefix): the "store lost its data" drill. */
  flush(): Promise<void>;
  /** True while it serves. */
  readonly running: boolean;
  /** Stops it for good and removes its data. Idempotent. */
  close(): Promise<void>;
}

/** `REGISTRY_TYPE` for each backend. */
export const REGISTRY_TYPE_OF: Record<SandboxBackend, string> = {
  memory: 'INMEMORY',
  redis: 'REDIS',
  'redis-cluster': 'REDIS_CLUSTER',
  etcd: 'ETCD',
};
