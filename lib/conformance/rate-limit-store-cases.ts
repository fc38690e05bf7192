/**
 * The cases every `RateLimitStore` must pass (lib/ratelimit/store.ts): the interface, exact
 * admission up to the capacity, independent keys, costs, refill over real time, no refill at
 * `refillPerSecond: 0`, no over-admission under concurrent takes, and an idempotent `close()`.
 * The arithmetic they expect is lib/ratelimit/token-bucket.ts, the reference every store mirrors.
 */
import assert from 'node:assert/strict';
import type { RateLimitStore } from '../ratelimit/store.js';
import type { BucketConfig, RateLimitDecision } from '../ratelimit/token-bucket.js';
import { waitFor } from './wait-for.js';

/** What one rate-limit store case receives. */
export interface RateLimitStoreCaseContext {
  /** A fresh store, closed by the suite after the case. */
  store: RateLimitStore;
  /** A bucket key unique to this case, so cases can share one real store. */
  key(label?: string): string;
  /** Deadline of the case, in ms. */
  timeoutMs: number;
}

/** One rate-limit store case. */
export interface RateLimitStoreCase {
  name: string;
  run(ctx: RateLimitStoreCaseContext): Promise<void>;
}

/** Refills so slowly (one token in ~17 min) that a case never sees a refill. */
const NO_REFILL_WITHIN_A_CASE = 0.001;

async function take(store: RateLimitStore, key: string, config: BucketConfig, cost = 1): Promise<RateLimitDecision> {
  return await store.take(key, config, cost);
}

function assertDecisionShape(d: RateLimitDecision, where: string): void {
  assert.equal(typeof d.allowed, 'boolean', `${where}: allowed is a boolean`);
  for (const f of ['limit', 'remaining', 'resetMs', 'retryAfterMs'] as const) {
    assert.equal(typeof d[f], 'number', `${where}: ${f} is a number`);
    assert.ok(d[f] >= 0, `${where}: ${f} >= 0 (got ${d[f]})`);
  }
  assert.ok(Number.isInteger(d.remaining), `${where}: remaining is whole tokens (got ${d.remaining})`);
  if (d.allowed) assert.equal(d.retryAfterMs, 0, `${where}: an admitted request has retryAfterMs 0`);
  else assert.ok(d.retryAfterMs > 0, `${where}: a refused request has retryAfterMs > 0`);
}

/** The rate-limit store cases, in order ("implements the interface" first). */
export const rateLimitStoreCases: readonly RateLimitStoreCase[] = Object.freeze([
  {
    name: 'implements the interface',
    async run({ store, key }) {
      assert.equal(typeof store.name, 'string');
      assert.ok(store.name.length > 0, 'name is a non-empty string');
      assert.equal(typeof store.take, 'function', 'take() is a function');
      assert.equal(typeof store.close, 'function', 'close() is a function');
      const d = await take(store, key(), { capacity: 3, refillPerSecond: 1 });
      assertDecisionShape(d, 'first take');
      assert.deepEqual(d, { allowed: true, limit: 3, remaining: 2, resetMs: 1000, retryAfterMs: 0 });
    },
  },
  {
    name: 'a new key starts full and admits exactly its capacity',
    async run({ store, key }) {
      const k = key();
      const config = { capacity: 5, refillPerSecond: NO_REFILL_WITHIN_A_CASE };
      const decisions: RateLimitDecision[] = [];
      for (let i = 0; i < 8; i++) decisions.push(await take(store, k, config));
      decisions.forEach((d, i) => {
        assertDecisionShape(d, `take ${i + 1}`);
        assert.equal(d.limit, 5, `take ${i + 1}: limit is the capacity`);
      });
      assert.deepEqual(
        decisions.map((d) => d.allowed),
        [true, true, true, true, true, false, false, false],
      );
      assert.deepEqual(
        decisions.map((d) => d.remaining),
        [4, 3, 2, 1, 0, 0, 0, 0],
        'remaining counts down and a refusal takes nothing',
      );
    },
  },
  {
    name: 'keys are independent, whatever characters they hold',
    async run({ store, key }) {
      const config = { capacity: 1, refillPerSecond: NO_REFILL_WITHIN_A_CASE };
      const base = key();
      const keys = [base, `${base}:x`, `${base}{x}`, `${base}}{`, `${base} `, `${base}/ü/😀`, `${base}|ip:::1`];
      for (const k of keys)
        assert.equal((await take(store, k, config)).allowed, true, `first take of ${JSON.stringify(k)}`);
      for (const k of keys)
        assert.equal((await take(store, k, config)).allowed, false, `second take of ${JSON.stringify(k)}`);
    },
  },
  {
    name: 'a cost takes that many tokens, and a refused cost takes none',
    async run({ store, key }) {
      const k = key();
      const config = { capacity: 10, refillPerSecond: NO_REFILL_WITHIN_A_CASE };
      const a = await take(store, k, config, 4);
      assert.deepEqual([a.allowed, a.remaining], [true, 6]);
      const b = await take(store, k, config, 7);
      assert.deepEqual([b.allowed, b.remaining], [false, 6], 'seven of six refused');
      assertDecisionShape(b, 'refused cost');
      const c = await take(store, k, config, 6);
      assert.deepEqual([c.allowed, c.remaining], [true, 0]);
    },
  },
  {
    name: 'refills at refillPerSecond, and says when to retry',
    async run({ store, key, timeoutMs }) {
      const k = key();
      const config = { capacity: 2, refillPerSecond: 20 }; // a token every 50 ms
      let refused: RateLimitDecision | undefined;
      for (let i = 0; i < 50 && refused === undefined; i++) {
        const d = await take(store, k, config);
        if (!d.allowed) refused = d;
      }
      assert.ok(refused, 'the bucket runs dry');
      assertDecisionShape(refused, 'refused');
      assert.ok(refused.retryAfterMs <= 50, `retryAfterMs ≤ one token's refill time (got ${refused.retryAfterMs})`);
      assert.ok(refused.resetMs > 0 && refused.resetMs <= 100, `resetMs ≤ a full refill (got ${refused.resetMs})`);
      await waitFor(async () => (await take(store, k, config)).allowed, {
        timeoutMs: timeoutMs / 2,
        intervalMs: 10,
        description: 'the bucket to refill',
      });
    },
  },
  {
    name: 'refillPerSecond 0 never refills: a refusal has retryAfterMs Infinity',
    async run({ store, key }) {
      const k = key();
      const config = { capacity: 1, refillPerSecond: 0 };
      const first = await take(store, k, config);
      assert.equal(first.allowed, true);
      const second = await take(store, k, config);
      assert.equal(second.allowed, false);
      assert.equal(second.retryAfterMs, Number.POSITIVE_INFINITY);
    },
  },
  {
    name: 'concurrent takes never admit more than the capacity',
    async run({ store, key }) {
      const k = key();
      const config = { capacity: 20, refillPerSecond: NO_REFILL_WITHIN_A_CASE };
      const decisions = await Promise.all(Array.from({ length: 60 }, () => take(store, k, config)));
      assert.equal(decisions.filter((d) => d.allowed).length, 20);
      assert.equal((await take(store, k, config)).allowed, false);
    },
  },
  {
    name: 'close() is idempotent',
    async run({ store }) {
      await store.close();
      await store.close();
    },
  },
]);
