import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import request from 'supertest';
import { fakeRegistry, instanceInput } from '../../../fixtures/registry-doubles.js';
import { DEFAULT_PAGE_SIZE, listingPage, parseListingQuery } from './instance-listing.js';
import { fixture } from './registry-router.test-kit.js';

const key = (s: string, i: string) => `${s}/${i}`;

describe('GET /internal/services pages', () => {
  it('serves every instance exactly once while instances come and go', async () => {
    await using fx = await fakeRegistry();
    const present = new Set<string>();
    for (let s = 0; s < 30; s++) {
      for (let i = 0; i < 10; i++) {
        await fx.registry.register(instanceInput(`svc${s}`, `i${i}`));
        present.add(key(`svc${s}`, `i${i}`));
      }
    }
    const stayed = new Set(present); // present from the first page to the last
    const seen: string[] = [];
    let cursor: string | undefined;
    let page = 0;
    let seed = 11;
    const rnd = (n: number) => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return (seed >>> 8) % n;
    };
    do {
      const q = parseListingQuery(new URLSearchParams(cursor === undefined ? 'limit=17' : `limit=17&cursor=${cursor}`));
      const res = listingPage(fx.registry, q);
      assert.ok(res.instances.length <= 17);
      for (const inst of res.instances) seen.push(key(inst.service, inst.instanceId));
      cursor = res.nextCursor;
      // Churn between pages: some leave (served or not), some join (behind or ahead of the cursor).
      for (let k = 0; k < 3; k++) {
        const s = `svc${rnd(30)}`;
        const i = `i${rnd(10)}`;
        if (present.has(key(s, i))) {
          await fx.registry.deregister(s, i);
          present.delete(key(s, i));
          stayed.delete(key(s, i));
        }
        const joined = `new${page}-${k}`;
        await fx.registry.register(instanceInput(`svc${rnd(30)}`, joined));
      }
      page++;
    } while (cursor !== undefined && page < 100);
    assert.equal(cursor, undefined, 'the walk ends');
    assert.equal(new Set(seen).size, seen.length, 'no instance twice');
    for (const k of stayed) assert.ok(seen.includes(k), `${k} was served`);
  });

  it('filters by service and status, in (service, id) order', async () => {
    await using fx = await fakeRegistry();
    for (const id of ['b', 'a', 'c']) await fx.registry.register(instanceInput('one', id));
    await fx.registry.register(instanceInput('two', 'x'));
    await fx.registry.setStatus('one', 'c', 'DOWN');
    const ids = (qs: string) =>
      listingPage(fx.registry, parseListingQuery(new URLSearchParams(qs))).instances.map(
        (i) => `${i.service}/${i.instanceId}`,
      );
    assert.deepEqual(ids(''), ['one/a', 'one/b', 'one/c', 'two/x']);
    assert.deepEqual(ids('service=one&status=up'), ['one/a', 'one/b']);
    assert.deepEqual(ids('status=DOWN'), ['one/c']);
    assert.deepEqual(ids('service=nobody'), []);
    assert.equal(parseListingQuery(new URLSearchParams('')).limit, DEFAULT_PAGE_SIZE);
  });

  it('refuses a bad limit, status or cursor with 400 ERR_FG_INVALID_QUERY naming it', async () => {
    await using fx = await fixture();
    await request(fx.base)
      .post('/internal/register-service')
      .send({ service: 's', url: 'http://127.0.0.1:7001', instance_id: 'i' })
      .expect(200);
    for (const [qs, parameter] of [
      ['limit=0', 'limit'],
      ['limit=5001', 'limit'],
      ['limit=1e3', 'limit'],
      ['status=ALIVE', 'status'],
      ['cursor=%%%', 'cursor'],
      ['cursor=bm90LWpzb24', 'cursor'],
    ] as const) {
      const res = await request(fx.base).get(`/internal/services?${qs}`).expect(400);
      assert.equal(res.body.error.code, 'ERR_FG_INVALID_QUERY', qs);
      assert.equal(res.body.error.details.parameter, parameter, qs);
    }
    const first = await request(fx.base).get('/internal/services?limit=1').expect(200);
    assert.deepEqual(Object.keys(first.body.services), ['s']);
    assert.equal(first.body.next_cursor, null);
  });
});
