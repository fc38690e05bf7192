/**
 * Drill `flapping-health` (#12): an instance's health endpoint flaps, up 2 s / down 2 s, for a
 * few cycles, while its requests keep being served. Routing must follow the status ladder (see
 * docs/health.md) within its bounds: DOWN only after `HEALTH_MAX_FAILURES` failed checks, UP
 * again at the next check while DOWN (`HEALTH_DOWN_INTERVAL`, twice the interval in the
 * sandbox). That ladder is the hysteresis: at most one DOWN and one UP per flap, so there is no
 * storm of transitions, registry events or log lines, and no request fails.
 */
import { readFileSync, statSync } from 'node:fs';
import { check, type Drill, type DrillCheck, numberParam } from './drill.js';
import { drillDescription } from './drill-names.js';
import { cleanUp, type DrillUpstream, joinFleet, startUpstream, waitListed } from './drill-upstream.js';
import { listFleet, liveProcesses } from './fleet-probe.js';
import { LoadLoop } from './load-loop.js';

const FLAPPER = 'drill-flap-2';

/** The flapping-health drill. */
export const flappingHealthDrill: Drill = {
  name: 'flapping-health',
  description: drillDescription('flapping-health'),
  async run({ client, fleet, params, log }) {
    const phase = numberParam(params, 'phase', 2000);
    const cycles = Math.max(1, Math.round(numberParam(params, 'cycles', 3)));
    const { healthIntervalMs: interval, healthTimeoutMs: timeout, healthMaxFailures: maxFailures } = fleet.gateway;
    const downInterval = interval * 2;
    // DOWN at the latest after maxFailures checks started after the flip; UP at the next DOWN-rate check.
    const downBound = maxFailures * interval + timeout + 500;
    const upBound = downInterval + timeout + 500;
    const { processes, gatewayUrls } = await liveProcesses(client);
    const logs = processes.filter((p) => p.role === 'gateway' && p.log !== undefined).map((p) => p.log as string);
    let healthy = true;
    const upstreams: DrillUpstream[] = [];
    const handles = [];
    const checks: DrillCheck[] = [];
    let load: LoadLoop | undefined;
    try {
      for (const id of ['drill-flap-1', FLAPPER]) {
        const up = await startUpstream((req, res) => {
          if (req.url === '/health') {
            const ok = id !== FLAPPER || healthy;
            res.writeHead(ok ? 200 : 503, { 'content-type': 'application/json' });
            return void res.end(ok ? '{"status":"UP"}' : '{"status":"DOWN"}');
          }
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ instance_id: id }));
        });
        upstreams.push(up);
        handles.push(
          joinFleet(gatewayUrls, {
            service: 'drill-flap',
            instanceId: id,
            url: up.url,
            routes: [{ method: 'GET', path: '/drill-flap/**' }],
          }),
        );
      }
      if ((await waitListed(gatewayUrls, ['drill-flap-1', FLAPPER], 10_000)) === undefined)
        return { checks: [check('the drill instances register', false, 'not listed within 10 s')] };
      // Both UP (checked at least once) before the first flip.
      await waitListedUp(gatewayUrls, 5000);
      const metricsBefore = await Promise.all(gatewayUrls.map((g) => scrape(g)));
      const logSizes = logs.map((f) => sizeOf(f));
      load = new LoadLoop({ gateways: gatewayUrls, paths: ['/drill-flap/items'], concurrency: 2, maxRps: 40 });
      load.start();
      const t0 = Date.now();
      const flips: { at: number; healthy: boolean }[] = [];
      const seen = new Map<string, { at: number; status: string }[]>(gatewayUrls.map((g) => [g, []]));
      const end = t0 + cycles * 2 * phase + upBound;
      let nextFlip = t0;
      while (Date.now() < end) {
        if (Date.now() >= nextFlip && flips.length < cycles * 2) {
          healthy = flips.length % 2 === 1;
          flips.push({ at: Date.now(), healthy });
          nextFlip += phase;
        } else if (flips.length === cycles * 2 && !healthy) {
          healthy = true;
          flips.push({ at: Date.now(), healthy });
        }
        const listing = await listFleet(gatewayUrls);
        for (const g of gatewayUrls) {
          const status = listing.get(g)?.get(FLAPPER)?.status;
          const timeline = seen.get(g) as { at: number; status: string }[];
          if (status !== undefined && timeline.at(-1)?.status !== status) timeline.push({ at: Date.now(), status });
        }
        await new Promise((r) => setTimeout(r, 50));
      }
      log(
        `${cycles} cycles of ${phase} ms down / ${phase} ms up; ladder: ${maxFailures} × ${interval} ms to DOWN, ${downInterval} ms checks while DOWN`,
      );
      let late = 0;
      let contrary = 0;
      let downs = 0;
      let ups = 0;
      const delays: number[] = [];
      for (const [g, timeline] of seen) {
        const changes = timeline.slice(1);
        log(`${g}: ${timeline.map((t) => `${t.status}@${t.at - t0}ms`).join(' → ')}`);
        for (const c of changes) {
          const flip = [...flips].reverse().find((f) => f.at <= c.at && f.healthy === (c.status === 'UP'));
          if (c.status === 'DOWN') downs++;
          else ups++;
          if (flip === undefined) {
            contrary++;
            continue;
          }
          const d = c.at - flip.at;
          delays.push(d);
          if (d > (c.status === 'DOWN' ? downBound : upBound)) late++;
        }
      }
      checks.push(
        check(
          'routing follows within the ladder bounds',
          downs > 0 && late === 0 && contrary === 0,
          `${downs} DOWN and ${ups} UP transitions over ${gatewayUrls.length} gateway(s), ${late} late, ${contrary} without a flip to explain them; delays ${Math.min(...delays)}–${Math.max(...delays)} ms (bounds: DOWN ≤ ${downBound} ms, UP ≤ ${upBound} ms)`,
        ),
      );
      const metricsAfter = await Promise.all(gatewayUrls.map((g) => scrape(g)));
      // Transitions are labelled by service: only the flapping service's count against the bound.
      // In `drill all` an instance a drill before this one left behind may still go DOWN meanwhile.
      const flapLabel = 'service="drill-flap"';
      const transitions = sumDelta(metricsBefore, metricsAfter, 'fleetgate_health_transitions_total', (l) =>
        l.includes(flapLabel),
      );
      const otherTransitions = sumDelta(
        metricsBefore,
        metricsAfter,
        'fleetgate_health_transitions_total',
        (l) => !l.includes(flapLabel),
      );
      const eventsOf = (type: string): number =>
        sumDelta(metricsBefore, metricsAfter, 'fleetgate_registry_events_total', (l) => l.includes(`type="${type}"`));
      // The flap itself only changes status. The counter has no service label, and in `drill all`
      // the instances of the drills before this one still come and go on the same gateways, so
      // their registrations and expiries are reported, not counted against the flapping service.
      const statusEvents = eventsOf('status');
      const others = ['register', 'deregister', 'expire'].map((type) => `${type} ${eventsOf(type)}`).join(', ');
      const maxTransitions = cycles * 2 * gatewayUrls.length;
      const logLines = logs.reduce((n, f, i) => n + linesSince(f, logSizes[i] ?? 0), 0);
      checks.push(
        check(
          'no storm of transitions, registry events or log lines',
          transitions <= maxTransitions && statusEvents <= maxTransitions + 4 && logLines <= maxTransitions + 4,
          `${transitions} health transitions of drill-flap (≤ ${maxTransitions}: one DOWN and one UP per flap per gateway; other services meanwhile: ${otherTransitions}), ${statusEvents} status events (≤ ${maxTransitions + 4}; meanwhile, from any service: ${others}), ${logLines} gateway log lines`,
        ),
      );
      checks.push(check('no failed request while it flaps', load.failures(t0).length === 0, load.describe(t0)));
    } finally {
      await load?.stop();
      await cleanUp(handles, upstreams);
    }
    return { checks };
  },
};

async function waitListedUp(gateways: readonly string[], timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    const listing = await listFleet(gateways);
    if ([...listing.values()].every((m) => m?.get(FLAPPER)?.status === 'UP')) return;
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** `/metrics` as lines (empty when it does not answer). */
async function scrape(gateway: string): Promise<string[]> {
  try {
    const res = await fetch(`${gateway}/metrics`, { signal: AbortSignal.timeout(2000) });
    return (await res.text()).split('\n').filter((l) => l !== '' && !l.startsWith('#'));
  } catch {
    return [];
  }
}

/** Sum over gateways and label sets of `after - before` for the series of `metric` that `keep` accepts. */
function sumDelta(before: string[][], after: string[][], metric: string, keep: (line: string) => boolean = () => true) {
  const total = (lines: string[] | undefined) =>
    (lines ?? [])
      .filter((l) => (l.startsWith(`${metric}{`) || l.startsWith(`${metric} `)) && keep(l))
      .reduce((n, l) => n + Number(l.slice(l.lastIndexOf(' ') + 1)), 0);
  return after.reduce((n, a, i) => n + total(a) - total(before[i]), 0);
}

function sizeOf(file: string): number {
  try {
    return statSync(file).size;
  } catch {
    return 0;
  }
}

function linesSince(file: string, offset: number): number {
  try {
    return readFileSync(file)
      .subarray(offset)
      .toString('utf8')
      .split('\n')
      .filter((l) => l.trim() !== '').length;
  } catch {
    return 0;
  }
}
