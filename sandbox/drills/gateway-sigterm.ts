/**
 * Drill `gateway-sigterm` (#1): SIGTERM a gateway under load (the sandbox's gateway restart:
 * SIGTERM, wait for the process to exit, start it again on the same port). The client retries
 * connection-refused, and only that; every request must succeed, and the requests in flight when
 * the signal came must be answered, not cut.
 *
 * With several gateways (Redis, etcd) a refused request goes at once to the next gateway. With
 * the memory backend there is one gateway and its registry restarts empty, so the client is
 * modelled as sitting behind a readiness-aware balancer: a gateway that refused a connection is
 * held back until it answers again and lists every instance that was registered before.
 */
import { check, type Drill, type DrillCheck, numberParam, stringParam } from './drill.js';
import { drillDescription } from './drill-names.js';
import { cleanUp, type DrillUpstream, joinFleet, startUpstream, waitListed } from './drill-upstream.js';
import { listFleet, liveProcesses, runningInstances, waitFleetRoutable } from './fleet-probe.js';
import { drillPaths, LoadLoop } from './load-loop.js';

/** The gateway-sigterm drill. */
export const gatewaySigtermDrill: Drill = {
  name: 'gateway-sigterm',
  description: drillDescription('gateway-sigterm'),
  backends: ['memory', 'redis'],
  async run({ client, state, fleet, params, log }) {
    const target = stringParam(params, 'gateway') ?? 'gateway-1';
    const slowMs = numberParam(params, 'slowMs', 300);
    const settle = numberParam(params, 'settle', 1500);
    if (!(await waitFleetRoutable(client, 15_000))) log('warning: not every instance was routable before the drill');
    const { processes, gatewayUrls } = await liveProcesses(client);
    const gatewayUrl = processes.find((p) => p.name === target)?.url;
    if (gatewayUrl === undefined) return { skip: `no gateway ${target}` };
    const expected = runningInstances(processes).map((p) => p.name);
    // One route answers slowly, so requests are in flight when the signal comes.
    let slow: DrillUpstream | undefined;
    const handles = [];
    const checks: DrillCheck[] = [];
    const held = new Set<string>();
    let polling = true;
    let poller: Promise<void> | undefined;
    let load: LoadLoop | undefined;
    try {
      slow = await startUpstream((req, res) => {
        if (req.url === '/health') return void res.end('{"status":"UP"}');
        setTimeout(() => {
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ instance_id: 'drill-drain-1' }));
        }, slowMs);
      });
      handles.push(
        joinFleet(gatewayUrls, {
          service: 'drill-drain',
          instanceId: 'drill-drain-1',
          url: slow.url,
          routes: [{ method: 'GET', path: '/drill-drain/**' }],
        }),
      );
      if ((await waitListed(gatewayUrls, ['drill-drain-1'], 10_000)) === undefined)
        return { checks: [check('the drill instance registers', false, 'not listed within 10 s')] };
      const all = [...expected, 'drill-drain-1'];
      const single = gatewayUrls.length === 1;
      if (single) {
        // The balancer's readiness view: out at the first failure, back once it lists everyone.
        poller = (async () => {
          while (polling) {
            const listing = (await listFleet([gatewayUrl])).get(gatewayUrl);
            if (listing === undefined) held.add(gatewayUrl);
            else if (all.every((id) => listing.has(id))) held.delete(gatewayUrl);
            await new Promise((r) => setTimeout(r, 20));
          }
        })();
      }
      const paths = [...fleet.services.flatMap((s) => drillPaths(s.routes)), '/drill-drain/x'];
      load = new LoadLoop({
        gateways: gatewayUrls,
        paths,
        concurrency: 6,
        maxRps: 120,
        timeoutMs: 15_000,
        retryRefused: { maxMs: 20_000, ready: (g) => !held.has(g) },
      });
      load.start();
      await new Promise((r) => setTimeout(r, 1000));
      const tSig = Date.now();
      const r = await client.call<{ ms: number }>('restart', { target });
      log(
        `SIGTERM to ${target} under load, restarted on the same port in ${r.ms} ms` +
          (single ? ' (memory: one gateway, held back by the balancer until it lists the fleet again)' : ''),
      );
      if (single && (await waitListed([gatewayUrl], all, 15_000)) === undefined)
        log(`${target} did not list every instance again within 15 s`);
      await new Promise((res) => setTimeout(res, settle));
      await load.stop();
      const window = load.between(tSig - 1000);
      const failed = load.failures(tSig - 1000);
      const retried = window.filter((s) => (s.refused ?? 0) > 0);
      if (failed.length > 0) {
        // Where and when the failures came from, so a FAIL points at the gateway that caused it.
        const by = new Map<string, number[]>();
        for (const f of failed) by.set(f.gateway, [...(by.get(f.gateway) ?? []), f.done - tSig]);
        for (const [g, at] of by)
          log(
            `${at.length} failed on ${g}${g === gatewayUrl ? ` (${target})` : ''}, answered ${Math.min(...at)}–${Math.max(...at)} ms after the signal (restart returned after ${r.ms} ms)`,
          );
      }
      checks.push(
        check(
          'zero failed requests',
          failed.length === 0 && window.length > 0,
          `${load.describe(tSig - 1000)}; ${retried.length} were refused first and succeeded on retry (${retried.reduce((n, s) => n + (s.refused ?? 0), 0)} refused attempts)`,
        ),
      );
      const inFlight = load.samples.filter((s) => s.at < tSig && s.done > tSig && s.gateway === gatewayUrl);
      checks.push(
        check(
          'requests in flight at the SIGTERM are answered',
          inFlight.every((s) => s.ok),
          `${inFlight.filter((s) => s.ok).length}/${inFlight.length} in flight on ${target} when the signal came were answered 2xx`,
        ),
      );
      if (state.backend !== 'memory') {
        checks.push(
          check(
            'nothing lost (registry in the store)',
            (await waitListed(gatewayUrls, all, 5000)) !== undefined,
            `${all.length} instances listed on every gateway after the restart`,
          ),
        );
      }
    } finally {
      polling = false;
      await poller;
      await load?.stop();
      await cleanUp(handles, [slow]);
    }
    return { checks };
  },
};
