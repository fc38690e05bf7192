/**
 * The registry's Lua scripts as ioredis commands (`defineCommand`: EVALSHA, with EVAL only after
 * a script-cache miss, e.g. on a node that just restarted or was promoted).
 */
import type { Cluster, Redis } from 'ioredis';
import {
  CLAIMS_SINCE_LUA,
  CLAIMS_WRITE_LUA,
  DEREGISTER_LUA,
  HEARTBEAT_LUA,
  LIST_LUA,
  LOCK_RELEASE_LUA,
  LOCK_RENEW_LUA,
  REAP_LUA,
  REGISTER_LUA,
  SET_STATUS_LUA,
  UNLIST_LUA,
} from './redis-scripts.js';

type Reply = Promise<unknown>;

/** The registry commands, as defined on a client. Arguments are KEYS then ARGV, all strings. */
export interface RegistryCommands {
  fgRegister(...args: string[]): Reply;
  fgHeartbeat(...args: string[]): Reply;
  fgDeregister(...args: string[]): Reply;
  fgSetStatus(...args: string[]): Reply;
  fgReap(...args: string[]): Promise<[number, number, number, string]>;
  fgList(...args: string[]): Promise<unknown[]>;
  fgLockRenew(...args: string[]): Promise<number>;
  fgLockRelease(...args: string[]): Promise<number>;
  fgClaimsSince(...args: string[]): Promise<string[]>;
  fgClaimsWrite(...args: string[]): Promise<string | null>;
  fgUnlist(...args: string[]): Promise<number>;
}

const SCRIPTS: Record<keyof RegistryCommands, { lua: string; numberOfKeys: number }> = {
  fgRegister: { lua: REGISTER_LUA, numberOfKeys: 3 },
  fgHeartbeat: { lua: HEARTBEAT_LUA, numberOfKeys: 2 },
  fgDeregister: { lua: DEREGISTER_LUA, numberOfKeys: 2 },
  fgSetStatus: { lua: SET_STATUS_LUA, numberOfKeys: 2 },
  fgReap: { lua: REAP_LUA, numberOfKeys: 1 },
  fgList: { lua: LIST_LUA, numberOfKeys: 1 },
  fgLockRenew: { lua: LOCK_RENEW_LUA, numberOfKeys: 1 },
  fgLockRelease: { lua: LOCK_RELEASE_LUA, numberOfKeys: 1 },
  fgClaimsSince: { lua: CLAIMS_SINCE_LUA, numberOfKeys: 2 },
  fgClaimsWrite: { lua: CLAIMS_WRITE_LUA, numberOfKeys: 2 },
  fgUnlist: { lua: UNLIST_LUA, numberOfKeys: 2 },
};

/**
 * Defines the commands on `client` (once; a second backend on the same client reuses them) and
 * returns them bound to it.
 */
export function defineRegistryCommands(client: Redis | Cluster): RegistryCommands {
  const target = client as unknown as Record<string, ((...args: string[]) => Reply) | undefined>;
  const out: Partial<Record<keyof RegistryCommands, (...args: string[]) => Reply>> = {};
  for (const [name, script] of Object.entries(SCRIPTS) as [
    keyof RegistryCommands,
    (typeof SCRIPTS)[keyof RegistryCommands],
  ][]) {
    if (typeof target[name] !== 'function') client.defineCommand(name, script);
    const fn = target[name]!;
    out[name] = (...args: string[]) => fn.apply(client, args);
  }
  return out as RegistryCommands;
}
