/**
 * Drill `store-outage` (#3, Redis/etcd): take the store away under load for longer than the TTL
 * (issue #14 says 60 s; the sandbox's TTL is 5 s, so the default outage is TTL + 1 s: the same
 * shape, scaled down). Gateways must keep serving their last-known routes, say `degraded`, evict
 * nobody although every lease lapses meanwhile (self-preservation on), and, once the store is
 * back, resync in full, thaw (self-preservation off) and lose no registration.
 */

import { check, type Drill, type DrillCheck, numberParam } from './drill.js';
import { drillDescription } from './drill-names.js';
import {
  gatewayHealth,
  listFleet,
  liveProcesses,
  routableEverywhere,
  runningInstances,
  waitFleetRoutable,
  waitFor,
} from './fleet-probe.js';
import { drillPaths, LoadLoop } from './load-loop.js';

/** The store-outage drill. */
export const storeOutageDrill: Drill = {
  name: 'store-outage',
  description: drillDescription('store-outage'),
  backends: ['redis', 'etcd'],
  async run({ client, state, fleet, params, log }) {
    if (state.backend === 'memory') {
      return {
        skip: 'the memory backend has no store to lose: each gateway holds its own registry (run with --backend redis or etcd)',
      };
    }
    const outage = numberParam(params, 'outage', fleet.gateway.ttlMs + 1000);
    const resyncBound = numberParam(params, 'resyncBound', Math.round(fleet.gateway.ttlMs / 3) * 2 + 2000);
    if (!(await waitFleetRoutable(client, 15_000))) log('warning: not every instance was routable before the drill');
    const { processes, gatewayUrls } = await liveProcesses(client);
    const expected = runningInstances(processes);
    const paths = fleet.services.flatMap((s) => drillPaths(s.routes));
    if (paths.length === 0) return { skip: 'no GET route to drive traffic through' };
    const load = new LoadLoop({ gateways: gatewayUrls, paths, concurrency: 4, maxRps: 100 });
    const checks: DrillCheck[] = [];
    load.start();
    let storeDown = false;
    try {
      await new Promise((r) => setTimeout(r, 500));
      const down = Date.now();
      await client.call('store', { action: 'stop' });
      storeDown = true;
      log(`${state.backend} stopped; holding the outage for ${outage} ms (TTL ${fleet.gateway.ttlMs} ms)`);
      const degraded = new Set<string>();
      const preserving = new Set<string>();
      const evicted = new Set<string>();
      const until = Date.now() + outage;
      while (Date.now() < until) {
        for (const g of gatewayUrls) {
          const h = await gatewayHealth(g);
          const reg = h?.registry as { connected?: boolean; self_preservation?: boolean } | undefined;
          if (h?.status === 'degraded' || h?.status === 'unhealthy' || reg?.connected === false) degraded.add(g);
          if (reg?.self_preservation === true) preserving.add(g);
        }
        const listing = await listFleet(gatewayUrls);
        for (const p of expected) if (!routableEverywhere(listing, p.name)) evicted.add(p.name);
        await new Promise((r) => setTimeout(r, 250));
      }
      const up = Date.now();
      const firstFailure = load.failures(down, up)[0];
      if (firstFailure !== undefined) {
        log(
          `first failed request ${firstFailure.at - down} ms into the outage (${firstFailure.status} ${firstFailure.error ?? ''})`.trimEnd(),
        );
      }
      checks.push(
        check(
          'requests keep succeeding during the outage',
          load.failures(down, up).length === 0,
          load.describe(down, up),
        ),
      );
      checks.push(
        check(
          'gateways report the store problem on /health',
          degraded.size === gatewayUrls.length,
          `${degraded.size}/${gatewayUrls.length} gateways reported degraded or disconnected`,
        ),
      );
      checks.push(
        check(
          'no false eviction',
          evicted.size === 0,
          `${expected.length - evicted.size}/${expected.length} instances routable on every gateway throughout the ${outage} ms outage (TTL ${fleet.gateway.ttlMs} ms)${evicted.size ? `; lost: ${[...evicted].join(', ')}` : ''}`,
        ),
      );
      checks.push(
        check(
          'self-preservation on during the outage',
          preserving.size === gatewayUrls.length,
          `${preserving.size}/${gatewayUrls.length} gateways reported self_preservation: true`,
        ),
      );
      await client.call('store', { action: 'start' });
      storeDown = false;
      const back = Date.now();
      log(`${state.backend} back after ${back - down} ms`);
      let missing = '';
      const resynced = await waitFor(async () => {
        const listing = await listFleet(gatewayUrls);
        const absent = expected.filter((p) => !routableEverywhere(listing, p.name)).map((p) => p.name);
        const health = await Promise.all(gatewayUrls.map((g) => gatewayHealth(g)));
        const unhealthy = gatewayUrls.filter((_, i) => health[i]?.status !== 'healthy');
        missing = [
          absent.length > 0 ? `not routable everywhere: ${absent.join(', ')}` : '',
          unhealthy.length > 0
            ? `not healthy: ${unhealthy.map((g) => `${g} (${String(health[gatewayUrls.indexOf(g)]?.status ?? 'no answer')})`).join(', ')}`
            : '',
        ]
          .filter(Boolean)
          .join('; ');
        return absent.length === 0 && unhealthy.length === 0;
      }, resyncBound + 10_000);
      if (resynced === undefined || resynced > resyncBound)
        log(`still waiting at the bound for: ${missing || 'nothing (late)'}`);
      checks.push(
        check(
          'every gateway resynced and healthy after the store returned',
          resynced !== undefined && resynced <= resyncBound,
          resynced === undefined
            ? `not resynced ${resyncBound + 10_000} ms after the store returned`
            : `${expected.length} instances on ${gatewayUrls.length} gateway(s), healthy after ${resynced} ms (bound ${resyncBound} ms)`,
        ),
      );
      const thawed = await waitFor(async () => {
        const health = await Promise.all(gatewayUrls.map((g) => gatewayHealth(g)));
        return health.every(
          (h) => (h?.registry as { self_preservation?: boolean } | undefined)?.self_preservation === false,
        );
      }, resyncBound);
      checks.push(
        check(
          'self-preservation off again',
          thawed !== undefined,
          thawed === undefined
            ? `still on ${resyncBound} ms after the resync`
            : `off on every gateway ${thawed} ms after the resync`,
        ),
      );
      const listing = await listFleet(gatewayUrls);
      const kept = expected.filter((p) => routableEverywhere(listing, p.name));
      checks.push(
        check(
          'no lost registration',
          kept.length === expected.length,
          `${kept.length}/${expected.length} registered before the outage are listed on every gateway after it`,
        ),
      );
      const settled = Date.now();
      await new Promise((r) => setTimeout(r, 1000));
      checks.push(check('traffic flows after the resync', load.failures(settled).length === 0, load.describe(settled)));
    } finally {
      await load.stop();
      if (storeDown)
        await client.call('store', { action: 'start' }).catch((e: Error) => log(`restore failed: ${e.message}`));
    }
    return { checks };
  },
};
