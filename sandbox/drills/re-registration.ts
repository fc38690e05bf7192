/**
 * Drill `re-registration`: an instance dies and comes back on a new port under the same
 * instance id. The gateways must route to the new address, and never use the old one again: a
 * tripwire server takes over the old port and counts anything that still arrives there.
 */
import { createServer } from 'node:http';
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

/** The re-registration drill. */
export const reRegistrationDrill: Drill = {
  name: 're-registration',
  description: drillDescription('re-registration'),
  async run({ client, fleet, params, log }) {
    const bound = numberParam(params, 'bound', 2000);
    const observe = numberParam(params, 'observe', 2000);
    const wanted = stringParam(params, 'service');
    const service =
      fleet.services.find((s) => s.name === wanted) ??
      fleet.services.find((s) => s.instances >= 2 && drillPaths(s.routes).length > 0) ??
      fleet.services.find((s) => drillPaths(s.routes).length > 0);
    if (service === undefined) return { skip: 'no service with a GET route to drive traffic through' };
    if (!(await waitFleetRoutable(client, 15_000))) log('warning: not every instance was routable before the drill');
    const { processes, gatewayUrls } = await liveProcesses(client);
    const victim = runningInstances(processes, service.name)[0];
    if (victim?.port === undefined || victim.url === undefined)
      return { skip: `no running instance of ${service.name}` };
    const oldUrl = victim.url;
    const oldPort = victim.port;

    const hits: number[] = [];
    const tripwire = createServer((_req, res) => {
      hits.push(Date.now());
      res.writeHead(503, { 'content-type': 'application/json', 'x-tripwire': '1' });
      res.end('{"error":{"code":"TRIPWIRE","message":"old address used"}}');
    });
    const load = new LoadLoop({
      gateways: gatewayUrls,
      paths: drillPaths(service.routes),
      concurrency: 4,
      maxRps: 120,
    });
    const checks: DrillCheck[] = [];
    let restored = false;
    try {
      await client.call('crash', { target: victim.name, hold: true });
      const armed = await new Promise<boolean>((resolve) => {
        tripwire.once('error', () => resolve(false));
        tripwire.listen(oldPort, '127.0.0.1', () => resolve(true));
      });
      log(`crashed ${victim.name} (was ${oldUrl}); tripwire ${armed ? 'armed' : 'could not bind'} on port ${oldPort}`);
      load.start();
      const t0 = Date.now();
      await client.call('restart', { target: victim.name });
      const restartMs = Date.now() - t0;
      restored = true;
      const now = await liveProcesses(client);
      const newUrl = now.processes.find((p) => p.name === victim.name)?.url;
      log(`${victim.name} restarted at ${newUrl ?? '?'}`);
      checks.push(
        check('it came back on a new address', newUrl !== undefined && newUrl !== oldUrl, `${oldUrl} → ${newUrl}`),
      );
      const movedMs = await waitFor(
        async () => routableEverywhere(await listFleet(gatewayUrls), victim.name, newUrl),
        bound + 5000,
      );
      checks.push(
        check(
          'every gateway lists the new address',
          movedMs !== undefined && movedMs <= bound,
          movedMs === undefined
            ? `not within ${bound + 5000} ms`
            : `${movedMs} ms after the instance was up again (restart took ${restartMs} ms; bound ${bound} ms)`,
        ),
      );
      const movedAt = Date.now();
      await new Promise((r) => setTimeout(r, observe));
      const after = load.between(movedAt);
      const fromNew = after.filter((s) => s.ok && s.instanceId === victim.name && s.port !== oldPort).length;
      checks.push(
        check(
          'routed to the new address',
          fromNew > 0,
          `${fromNew} of ${after.length} requests answered by ${victim.name} at ${newUrl}`,
        ),
      );
      const late = hits.filter((h) => h >= movedAt).length;
      checks.push(
        check(
          'the old address is never used again',
          armed && late === 0,
          armed
            ? `${late} requests reached port ${oldPort} after the move (${hits.length} before it)`
            : 'tripwire could not bind the old port',
        ),
      );
      checks.push(
        check('no failed request after the move', load.failures(movedAt).length === 0, load.describe(movedAt)),
      );
    } finally {
      await load.stop();
      await new Promise<void>((r) => tripwire.close(() => r()));
      if (!restored)
        await client.call('restart', { target: victim.name }).catch((e: Error) => log(`restore failed: ${e.message}`));
    }
    return { checks };
  },
};
