/**
 * Route claims on etcd (lib/registry/backends/store-claim-queue.ts): one key per service under
 * `<root>claims/`, and `<root>claims-version`, rewritten by every claim transaction, whose
 * `mod_revision` is the version. A gateway reads the version and the claims changed since the
 * revision it holds (`min_mod_revision`) in one transaction, so one snapshot; a write is a
 * transaction guarded by the version's `mod_revision`.
 */
import type { Etcd3, IRangeResponse } from 'etcd3';
import type { EtcdKeys } from './etcd-values.js';
import { prefixEnd } from './etcd-values.js';
import type { ClaimBook } from './store-claim-book.js';
import type { ClaimStore } from './store-claim-queue.js';
import { parseClaim, type ServiceClaim } from './store-route-claims.js';

/** The claims under one root, as a {@link ClaimStore}. */
export class EtcdClaimStore implements ClaimStore {
  readonly #client: Etcd3;
  readonly #prefix: string;
  readonly #versionKey: Buffer;

  constructor(client: Etcd3, keys: EtcdKeys) {
    this.#client = client;
    this.#prefix = keys.claims;
    this.#versionKey = Buffer.from(keys.claimsVersion);
  }

  async refresh(book: ClaimBook): Promise<void> {
    const held = book.version === undefined || book.version === '' ? undefined : BigInt(book.version);
    let [version, claims] = await this.#read(held);
    // The version went back (a wiped store) or vanished: what we hold is no longer there.
    if (held !== undefined && (version === undefined || BigInt(version) < held)) {
      [version, claims] = await this.#read(undefined);
      book.reset();
    } else if (held === undefined) book.reset();
    for (const kv of claims.kvs)
      book.set(kv.key.toString('utf8').slice(this.#prefix.length), parseClaim(kv.value.toString('utf8')));
    book.version = version ?? '';
  }

  async write(book: ClaimBook, claims: ReadonlyMap<string, ServiceClaim>): Promise<boolean> {
    const held = book.version ?? '';
    const res = await this.#client.kv.txn({
      compare: [
        held === ''
          ? { key: this.#versionKey, target: 'Create', result: 'Equal', create_revision: 0 }
          : { key: this.#versionKey, target: 'Mod', result: 'Equal', mod_revision: held },
      ],
      success: [
        ...[...claims].map(([service, claim]) => ({
          request_put: { key: Buffer.from(this.#prefix + service), value: Buffer.from(JSON.stringify(claim)) },
        })),
        { request_put: { key: this.#versionKey, value: Buffer.from(String(Date.now())) } },
      ],
    });
    if (!res.succeeded) return false;
    book.version = String(res.header.revision);
    return true;
  }

  /** The version key's mod_revision and the claims modified after `since` (all when undefined), one snapshot. */
  async #read(since: bigint | undefined): Promise<[string | undefined, IRangeResponse]> {
    const res = await this.#client.kv.txn({
      compare: [],
      success: [
        { request_range: { key: this.#versionKey } },
        {
          request_range: {
            key: Buffer.from(this.#prefix),
            range_end: prefixEnd(this.#prefix),
            ...(since === undefined ? {} : { min_mod_revision: String(since + 1n) }),
          },
        },
      ],
    });
    const version = res.responses[0]?.response_range.kvs[0]?.mod_revision;
    return [version, res.responses[1]!.response_range];
  }
}
