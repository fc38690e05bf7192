/**
 * Batched reads and guarded writes on a real etcd: one transaction for what waits together, and
 * each write's own outcome when a compare in its batch fails.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { ICompare } from 'etcd3';
import { type EtcdServer, etcdSkipReason, startEtcd } from '../../../sandbox/servers/index.js';
import { EtcdBatcher } from './etcd-batcher.js';
import { createEtcdClient } from './etcd-values.js';

const skip = await etcdSkipReason();
let etcd: EtcdServer;
before(async () => {
  if (skip === undefined) etcd = await startEtcd();
});
after(async () => {
  await etcd?.stop();
});

const create = (key: Buffer): ICompare => ({ key, target: 'Create', result: 'Equal', create_revision: 0 });

describe('EtcdBatcher', { skip }, () => {
  it('sends 60 writes, then 60 reads, made in one turn as one transaction each', async () => {
    const client = createEtcdClient(etcd.endpoints);
    try {
      const batcher = new EtcdBatcher(client);
      const txn = client.kv.txn.bind(client.kv);
      let calls = 0;
      client.kv.txn = (...args: Parameters<typeof txn>) => {
        calls++;
        return txn(...args);
      };
      const keys = Array.from({ length: 60 }, (_, i) => Buffer.from(`/b-${randomUUID()}/${i}`));
      const written = await Promise.all(
        keys.map((key, i) => batcher.write(create(key), { key, value: Buffer.from(String(i)) })),
      );
      assert.ok(written.every((w) => w.succeeded));
      assert.equal(new Set(written.map((w) => w.revision)).size, 1, 'one revision: one transaction');
      const read = await Promise.all(keys.map((key) => batcher.read(key)));
      assert.deepEqual(
        read.map((kv) => kv?.value.toString()),
        keys.map((_, i) => String(i)),
      );
      assert.equal(calls, 2);
    } finally {
      client.close();
    }
  });

  it('when one compare of a batch fails, each write gets its own outcome; a key twice in a turn wins once', async () => {
    const client = createEtcdClient(etcd.endpoints);
    try {
      const batcher = new EtcdBatcher(client);
      const root = `/b-${randomUUID()}/`;
      const taken = Buffer.from(`${root}taken`);
      await client.put(taken).value('old');
      const [a, b, c] = await Promise.all([
        batcher.write(create(Buffer.from(`${root}a`)), { key: Buffer.from(`${root}a`), value: Buffer.from('a') }),
        batcher.write(create(taken), { key: taken, value: Buffer.from('new') }),
        batcher.write(create(Buffer.from(`${root}c`)), { key: Buffer.from(`${root}c`), value: Buffer.from('c') }),
      ]);
      assert.deepEqual([a.succeeded, b.succeeded, c.succeeded], [true, false, true]);
      assert.equal(await client.get(taken.toString()).string(), 'old');
      const twice = Buffer.from(`${root}twice`);
      const both = await Promise.all(
        [1, 2].map((n) => batcher.write(create(twice), { key: twice, value: Buffer.from(String(n)) })),
      );
      assert.equal(both.filter((w) => w.succeeded).length, 1);
    } finally {
      client.close();
    }
  });
});
