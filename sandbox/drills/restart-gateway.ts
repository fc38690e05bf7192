/**
 * Drill `restart-gateway`: restart a gateway process. With the memory backend its registry is
 * gone, so every instance must re-register by itself within one heartbeat interval (heartbeat →
 * 404 → register). With Redis or etcd the registry lives in the store: nothing may be lost at all.
 */

import { check, type Drill, type DrillCheck, numberParam, stringParam } from './drill.js';
import { drillDescription } from './drill-names.js';
import {
  listFleet,
  liveProcesses,
  routableEverywhere,
  runningInstances,
  waitFleetRoutable,
  waitFor,
} from './fleet-probe.js';
import { drillPaths, LoadLoop } from './load-loop.js';

/** The restart-gateway drill. */
export const restartGatewayDrill: Drill = {
  name: 'restart-gateway',
  description: drillDescription('restart-gateway'),
  async run({ client, state, fleet, params, log }) {
    const target = stringParam(params, 'gateway') ?? 'gateway-1';
    const heartbeat = Math.round(fleet.gateway.ttlMs / 3);
    // One interval, plus the client's ±10 % jitter and one registration round trip.
    const bound = numberParam(params, 'bound', Math.round(heartbeat * 1.1) + 500);
    const shared = state.backend !== 'memory';

    if (!(await waitFleetRoutable(client, 15_000))) log('warning: not every instance was routable before the drill');
    const { processes, gatewayUrls } = await liveProcesses(client);
    const gatewayUrl = processes.find((p) => p.name === target)?.url;
    if (gatewayUrl === undefined) return { skip: `no gateway ${target}` };
    const expected = runningInstances(processes);
    const paths = fleet.services.flatMap((s) => drillPaths(s.routes));
    const load =
      paths.length > 0 ? new LoadLoop({ gateways: gatewayUrls, paths, concurrency: 2, maxRps: 60 }) : undefined;
    load?.start();
    const checks: DrillCheck[] = [];
    try {
      const t0 = Date.now();
      const r = await client.call<{ ms: number }>('restart', { target });
      const back = Date.now();
      log(`restarted ${target} in ${r.ms} ms (heartbeat interval ${heartbeat} ms)`);
      const first = (await listFleet([gatewayUrl])).get(gatewayUrl);
      const presentAtOnce = expected.filter((p) => first?.get(p.name) !== undefined).length;
      log(`${presentAtOnce}/${expected.length} instances listed by ${target} as soon as it answered`);
      if (shared) {
        checks.push(
          check(
            'nothing lost (registry in the store)',
            presentAtOnce === expected.length,
            `${presentAtOnce}/${expected.length} listed right after the restart`,
          ),
        );
      }
      const waitStart = Date.now();
      const allBack = await waitFor(async () => {
        const listing = await listFleet([gatewayUrl]);
        return expected.every((p) => routableEverywhere(listing, p.name));
      }, bound + 10_000);
      const settled = Date.now();
      checks.push(
        check(
          'every instance registered again within one heartbeat interval',
          allBack !== undefined && waitStart - back + allBack <= bound,
          allBack === undefined
            ? `not all back ${bound + 10_000} ms after the restart`
            : `${expected.length}/${expected.length} back ${waitStart - back + allBack} ms after the gateway answered (bound ${bound} ms)`,
        ),
      );
      if (load !== undefined && allBack !== undefined) {
        await new Promise((res) => setTimeout(res, 1500));
        log(`during the restart: ${load.describe(t0, settled)}`);
        const failed = load.failures(settled);
        checks.push(
          check(
            'traffic flows once everyone is back',
            failed.length === 0 && load.between(settled).length > 0,
            load.describe(settled),
          ),
        );
      }
    } finally {
      await load?.stop();
    }
    return { checks };
  },
};
