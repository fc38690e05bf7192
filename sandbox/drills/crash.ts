/**
 * Drill `crash` (#2): kill -9 one instance of a service under load. It must leave routing on
 * every gateway within 1 s by passive detection (the refused or reset connections of the
 * requests sent to it), and once it is out of routing no idempotent request may fail. "Out of
 * routing" is what `/_fleetgate/explain` offers (ejection included), or the listing saying DOWN.
 */

import { check, type Drill, type DrillCheck, numberParam, stringParam } from './drill.js';
import { drillDescription } from './drill-names.js';
import {
  excludedEverywhere,
  listFleet,
  liveProcesses,
  outOfRoutingEverywhere,
  runningInstances,
  waitFleetRoutable,
  waitFor,
} from './fleet-probe.js';
import { drillPaths, LoadLoop } from './load-loop.js';

/** The crash drill. */
export const crashDrill: Drill = {
  name: 'crash',
  description: drillDescription('crash'),
  async run({ client, fleet, params, log }) {
    const ttl = fleet.gateway.ttlMs;
    const bound = numberParam(params, 'bound', 1000);
    const after = numberParam(params, 'observeAfter', 2000);
    const warmup = numberParam(params, 'warmup', 1000);
    const wanted = stringParam(params, 'service');
    const service =
      fleet.services.find((s) => s.name === wanted) ??
      fleet.services.find((s) => s.instances >= 2 && drillPaths(s.routes).length > 0) ??
      fleet.services.find((s) => drillPaths(s.routes).length > 0);
    if (service === undefined) return { skip: 'no service with a GET route to drive traffic through' };

    if (!(await waitFleetRoutable(client, 15_000))) log('warning: not every instance was routable before the drill');
    const { processes, gatewayUrls } = await liveProcesses(client);
    const victim = runningInstances(processes, service.name)[0];
    if (victim === undefined) return { skip: `no running instance of ${service.name}` };
    const others = runningInstances(processes, service.name).length - 1;

    const load = new LoadLoop({
      gateways: gatewayUrls,
      paths: drillPaths(service.routes),
      concurrency: 4,
      maxRps: 150,
    });
    const checks: DrillCheck[] = [];
    load.start();
    log(`load: 4 workers over ${gatewayUrls.length} gateway(s) on ${drillPaths(service.routes).join(', ')}`);
    try {
      await new Promise((r) => setTimeout(r, warmup));
      const t0 = Date.now();
      await client.call('crash', { target: victim.name, hold: true });
      log(`crashed ${victim.name} (kill -9, held down); ${others} other instance(s) of ${service.name} remain`);
      const path = drillPaths(service.routes)[0] as string;
      const detectMs = await waitFor(
        async () =>
          outOfRoutingEverywhere(await listFleet(gatewayUrls), victim.name) ||
          (await excludedEverywhere(gatewayUrls, 'GET', path, victim.name)),
        ttl + 5000,
      );
      // The moment it was seen out of routing, not the start of the poll that saw it: only later requests count.
      const detectedAt = detectMs === undefined ? undefined : Date.now();
      checks.push(
        check(
          'out of routing within 1 s',
          detectMs !== undefined && detectMs <= bound,
          detectMs === undefined
            ? `still routable ${ttl + 5000} ms after the crash`
            : `${detectMs} ms ${detectMs <= bound ? '≤' : '>'} ${bound} ms (passive detection; TTL ${ttl} ms would be the last resort)`,
        ),
      );
      if (detectedAt !== undefined) {
        log(`${victim.name} out of routing on every gateway after ${detectMs} ms`);
        await new Promise((r) => setTimeout(r, after));
        const failed = load.failures(detectedAt);
        const total = load.between(detectedAt).length;
        if (others > 0) {
          checks.push(
            check(
              'no failed idempotent request after detection',
              failed.length === 0 && total > 0,
              total === 0 ? 'no request was sent after detection' : load.describe(detectedAt),
            ),
          );
        } else {
          log(`(${service.name} has no other instance: requests after detection are expected to fail with 503)`);
        }
        log(`before detection: ${load.describe(t0, detectedAt)}`);
        const ghost = load.between(detectedAt).filter((s) => s.ok && s.instanceId === victim.name);
        checks.push(
          check('the dead instance answers nothing after detection', ghost.length === 0, `${ghost.length} answers`),
        );
      }
    } finally {
      await load.stop();
      await client.call('restart', { target: victim.name }).catch((e: Error) => log(`restore failed: ${e.message}`));
      const back = await waitFleetRoutable(client, 15_000);
      log(back ? `restored ${victim.name}` : `${victim.name} did not come back within 15 s`);
    }
    return { checks };
  },
};
