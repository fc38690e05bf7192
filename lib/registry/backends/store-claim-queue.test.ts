/**
 * The claim queue against a store double: claims waiting together are decided against each
 * other and written in one versioned write; a write that lost the race is re-decided.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FakeClock } from '../../clock.js';
import { isFleetgateError } from '../../errors.js';
import { ClaimBook } from './store-claim-book.js';
import { ClaimQueue, type ClaimStore } from './store-claim-queue.js';
import type { ClaimedRouteSpec, ServiceClaim } from './store-route-claims.js';

/** A store holding claims and a version in memory; counts reads and writes; `meddle` runs before a write. */
class StoreDouble implements ClaimStore {
  claims = new Map<string, ServiceClaim>();
  version = 0;
  reads = 0;
  writes = 0;
  meddle: (() => void) | undefined;

  async refresh(book: ClaimBook): Promise<void> {
    this.reads++;
    book.reset();
    for (const [s, c] of this.claims) book.set(s, c);
    book.version = String(this.version);
  }

  async write(book: ClaimBook, claims: ReadonlyMap<string, ServiceClaim>): Promise<boolean> {
    this.meddle?.();
    this.meddle = undefined;
    if (book.version !== String(this.version)) return false;
    this.writes++;
    for (const [s, c] of claims) this.claims.set(s, c);
    this.version++;
    book.version = String(this.version);
    return true;
  }
}

const get = (path: string): ClaimedRouteSpec => ({ method: 'GET', path, protocol: 'http' });

function queueOn(store: StoreDouble, clock = new FakeClock()): ClaimQueue {
  return new ClaimQueue({ store, book: new ClaimBook(), clock, maxBatch: 256 });
}

describe('ClaimQueue', () => {
  it('writes 1,000 claims made at once in a handful of versioned writes, every one held', async () => {
    const store = new StoreDouble();
    const queue = queueOn(store);
    await Promise.all(
      Array.from({ length: 1000 }, (_, i) => queue.claim(`svc${i}`, [get(`/api/svc${i}/**`)], 90_000, true)),
    );
    assert.equal(store.claims.size, 1000);
    assert.ok(store.writes <= 5, `${store.writes} writes`);
  });

  it('decides claims waiting together against each other: of two colliding ones the first wins', async () => {
    const store = new StoreDouble();
    const queue = queueOn(store);
    const results = await Promise.allSettled([
      queue.claim('a', [get('/race/*')], 90_000, true),
      queue.claim('b', [get('/race/:id')], 90_000, true),
      queue.claim('a', [get('/a/x')], 90_000, true),
    ]);
    assert.deepEqual(
      results.map((r) => r.status),
      ['fulfilled', 'rejected', 'fulfilled'],
    );
    assert.ok(isFleetgateError((results[1] as PromiseRejectedResult).reason, 'ERR_FG_ROUTE_CONFLICT'));
    assert.deepEqual(
      store.claims.get('a')?.routes.map((r) => r.path),
      ['/race/*', '/a/x'],
    );
    assert.equal(store.claims.has('b'), false);
  });

  it('re-decides a write that lost the race: a colliding claim written meanwhile refuses it', async () => {
    const store = new StoreDouble();
    const queue = queueOn(store);
    store.meddle = () => {
      store.claims.set('other', { routes: [get('/x/**')], expiresAt: Number.MAX_SAFE_INTEGER });
      store.version++;
    };
    await assert.rejects(queue.claim('mine', [get('/x/y')], 90_000, true), (err) =>
      isFleetgateError(err, 'ERR_FG_ROUTE_CONFLICT'),
    );
    assert.equal(store.reads, 2);
  });

  it('writes nothing for a registration its live claim covers; a heartbeat touch pushes the expiry', async () => {
    const clock = new FakeClock();
    const store = new StoreDouble();
    const queue = queueOn(store, clock);
    await queue.claim('a', [get('/a/**')], 90_000, true);
    await queue.claim('a', [get('/a/**')], 90_000, true);
    assert.equal(store.writes, 1);
    await clock.advance(40_000);
    await queue.claim('a', [get('/a/**')], 90_000, false);
    assert.equal(store.writes, 2);
    assert.equal(store.claims.get('a')?.expiresAt, clock.now() + 90_000);
  });

  it('an expired claim of another service does not block, a live one does', async () => {
    const clock = new FakeClock();
    const store = new StoreDouble();
    const queue = queueOn(store, clock);
    await queue.claim('old', [get('/o/*')], 1000, true);
    await assert.rejects(queue.claim('new', [get('/o/:x')], 1000, true));
    await clock.advance(1001);
    await queue.claim('new', [get('/o/:x')], 1000, true);
    assert.deepEqual(store.claims.get('new')?.routes, [get('/o/:x')]);
  });
});
