/**
 * The "one gateway probes each instance" lease on a real etcd: a key on an etcd lease, taken by a
 * create-revision transaction, renewed and released by its holder only, and two checkers sharing
 * it — the same scenarios as on Redis (e2e/support/check-lease-scenarios.ts).
 */
import { randomUUID } from 'node:crypto';
import { after, before, describe } from 'node:test';
import type { Etcd3 } from 'etcd3';
import { EtcdCheckLease } from '../lib/health/etcd-check-lease.js';
import { createEtcdClient } from '../lib/registry/backends/etcd-values.js';
import { type EtcdServer, etcdSkipReason, startEtcd } from '../sandbox/servers/etcd-server.js';
import { checkLeaseScenarios } from './support/check-lease-scenarios.js';

const skip = await etcdSkipReason();

describe('EtcdCheckLease on a real etcd', { skip }, () => {
  let etcd: EtcdServer;
  let client: Etcd3;
  before(async () => {
    etcd = await startEtcd();
    client = createEtcdClient(etcd.endpoints);
  });
  after(async () => {
    client?.close();
    await etcd?.stop();
  });

  // etcd 3.4 grants at least ~2 s and expires a lease up to ~1 s late.
  checkLeaseScenarios(() => new EtcdCheckLease(client, { prefix: `/e2e/${randomUUID()}/` }), { expiryTimeoutMs: 8000 });
});
