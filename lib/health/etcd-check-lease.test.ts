import { randomUUID } from 'node:crypto';
import { after, before } from 'node:test';
import type { Etcd3 } from 'etcd3';
import { type EtcdServer, etcdSkipReason, startEtcd } from '../../sandbox/servers/index.js';
import { describeCheckLease } from '../conformance/index.js';
import { createEtcdClient } from '../registry/backends/etcd-values.js';
import { EtcdCheckLease } from './etcd-check-lease.js';

const skip = await etcdSkipReason();
let etcd: EtcdServer | undefined;
let client: Etcd3 | undefined;
before(async () => {
  if (skip !== undefined) return;
  etcd = await startEtcd();
  client = createEtcdClient(etcd.endpoints);
});
after(async () => {
  client?.close();
  await etcd?.stop();
});

// etcd 3.4 grants a lease of at least ~2 s and expires it up to ~1 s late.
describeCheckLease('etcd', () => new EtcdCheckLease(client!, { prefix: `/t-${randomUUID().slice(0, 8)}/` }), {
  skip,
  expiryTimeoutMs: 8000,
});
