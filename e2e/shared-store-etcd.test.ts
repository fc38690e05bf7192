/**
 * Two `fleetgate` processes on one real etcd (`REGISTRY_TYPE=ETCD`): cross-gateway propagation,
 * expiry of a crashed service (against the lease etcd actually granted), and an etcd outage
 * under load. The scenario is shared with Redis: e2e/support/shared-store-scenario.ts. etcd
 * keeps its data across the restart, but the leases lapse while it is down, so recovery still
 * needs the clients to register again.
 */
import { etcdSkipReason, startEtcd } from '../sandbox/servers/index.js';
import { describeSharedStoreScenario } from './support/shared-store-scenario.js';

describeSharedStoreScenario({
  name: 'etcd',
  skip: await etcdSkipReason(),
  async start() {
    const etcd = await startEtcd();
    return {
      env: { REGISTRY_TYPE: 'ETCD', REGISTRY_ETCD_ENDPOINTS: etcd.endpoints.join(',') },
      kill: () => etcd.kill(),
      restart: () => etcd.restart(),
      stop: () => etcd.stop(),
    };
  },
});
