/**
 * Route claims on Redis (lib/registry/backends/store-claim-queue.ts): the claims hash
 * `<prefix>:{routes}:claims` with its `~v` version, and a change log so a gateway reads only the
 * claims written since the version it holds (redis-scripts.ts: CLAIMS_SINCE_LUA, CLAIMS_WRITE_LUA).
 */
import type { RegistryCommands } from './redis-commands.js';
import type { RedisKeys } from './redis-keys.js';
import type { ClaimBook } from './store-claim-book.js';
import type { ClaimStore } from './store-claim-queue.js';
import { parseClaim, type ServiceClaim } from './store-route-claims.js';

/** The claims hash of one key prefix, as a {@link ClaimStore}. */
export class RedisClaimStore implements ClaimStore {
  readonly #commands: RegistryCommands;
  readonly #keys: RedisKeys;

  constructor(commands: RegistryCommands, keys: RedisKeys) {
    this.#commands = commands;
    this.#keys = keys;
  }

  async refresh(book: ClaimBook): Promise<void> {
    const reply = await this.#commands.fgClaimsSince(this.#keys.claims, this.#keys.claimsLog, book.version ?? '');
    const [version, mode] = reply;
    if (mode === 'full') book.reset();
    for (let i = 2; i + 1 < reply.length; i += 2) {
      const field = reply[i]!;
      if (field !== '~v') book.set(field, parseClaim(reply[i + 1]));
    }
    book.version = version ?? '';
  }

  async write(book: ClaimBook, claims: ReadonlyMap<string, ServiceClaim>): Promise<boolean> {
    const args = [this.#keys.claims, this.#keys.claimsLog, book.version ?? ''];
    for (const [service, claim] of claims) args.push(service, JSON.stringify(claim));
    const version = await this.#commands.fgClaimsWrite(...args);
    if (version === null || version === undefined) return false;
    book.version = String(version);
    return true;
  }
}
