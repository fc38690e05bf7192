/**
 * Drill `store-outage` (Redis/etcd only): take the store away under load. Gateways must keep
 * serving their last-known routes, say `degraded`, and resync in full once the store is back.
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
      const until = Date.now() + outage;
      while (Date.now() < until) {
        for (const g of gatewayUrls) {
          const h = await gatewayHealth(g);
          const reg = h?.registry as { connected?: boolean } | undefined;
          if (h?.status === 'degraded' || h?.status === 'unhealthy' || reg?.connected === false) degraded.add(g);
        }
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
