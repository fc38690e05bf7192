/**
 * Drill `slow-upstream` (#7): one instance answers its route only after 10 s. A burst of
 * requests to it must each end in 504 at the route's timeout (`timeoutMs` in the registration),
 * the gateway must give the upstream connections back, and requests to other routes, sent
 * meanwhile, must not queue behind the slow ones.
 */
import { Agent, request } from 'undici';
import { check, type Drill, type DrillCheck, numberParam } from './drill.js';
import { drillDescription } from './drill-names.js';
import { cleanUp, type DrillUpstream, joinFleet, percentile, startUpstream, waitListed } from './drill-upstream.js';
import { liveProcesses, waitFor } from './fleet-probe.js';
import { LoadLoop } from './load-loop.js';

/** The slow-upstream drill. */
export const slowUpstreamDrill: Drill = {
  name: 'slow-upstream',
  description: drillDescription('slow-upstream'),
  async run({ client, params, log }) {
    const answerAfter = numberParam(params, 'answerAfter', 10_000);
    const routeTimeout = numberParam(params, 'routeTimeout', 1000);
    const burst = Math.round(numberParam(params, 'burst', 40));
    // The 504 must come at the timeout, not at the instance's answer: slack for a busy 2-core machine only.
    const slack = numberParam(params, 'slack', 1000);
    const { gatewayUrls } = await liveProcesses(client);
    const held = new Set<() => void>();
    let slow: DrillUpstream | undefined;
    let fast: DrillUpstream | undefined;
    const handles = [];
    const checks: DrillCheck[] = [];
    const agent = new Agent({ connections: burst + 4 });
    let load: LoadLoop | undefined;
    try {
      slow = await startUpstream((req, res) => {
        if (req.url === '/health') return void res.end('{"status":"UP"}');
        const timer = setTimeout(() => res.end('{"late":true}'), answerAfter);
        const release = (): void => {
          clearTimeout(timer);
          held.delete(release);
        };
        held.add(release);
        res.once('close', release);
      });
      fast = await startUpstream((req, res) => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ instance_id: 'drill-fast-1', path: req.url }));
      });
      handles.push(
        joinFleet(gatewayUrls, {
          service: 'drill-slow',
          instanceId: 'drill-slow-1',
          url: slow.url,
          routes: [{ method: 'GET', path: '/drill-slow/**', timeoutMs: routeTimeout }],
        }),
        joinFleet(gatewayUrls, {
          service: 'drill-fast',
          instanceId: 'drill-fast-1',
          url: fast.url,
          routes: [{ method: 'GET', path: '/drill-fast/**' }],
        }),
      );
      if ((await waitListed(gatewayUrls, ['drill-slow-1', 'drill-fast-1'], 10_000)) === undefined)
        return { checks: [check('the drill instances register', false, 'not listed within 10 s')] };

      load = new LoadLoop({ gateways: gatewayUrls, paths: ['/drill-fast/ping'], concurrency: 4, maxRps: 100 });
      load.start();
      await new Promise((r) => setTimeout(r, 500));
      const baseline = load.between(0).map((s) => s.done - s.at);
      const t0 = Date.now();
      log(`${burst} requests to a route with timeoutMs ${routeTimeout} whose instance answers after ${answerAfter} ms`);
      const answers = await Promise.all(
        Array.from({ length: burst }, async (_, i) => {
          const at = Date.now();
          try {
            const res = await request(`${gatewayUrls[i % gatewayUrls.length]}/drill-slow/${i}`, {
              dispatcher: agent,
              headersTimeout: answerAfter + 5000,
            });
            const text = await res.body.text();
            const code = /"code":"([A-Z_]+)"/.exec(text)?.[1];
            return { status: res.statusCode, ms: Date.now() - at, code };
          } catch (err) {
            return { status: 0, ms: Date.now() - at, code: (err as Error).message };
          }
        }),
      );
      const burstEnd = Date.now();
      const timedOut = answers.filter((a) => a.status === 504);
      const ms = answers.map((a) => a.ms);
      checks.push(
        check(
          '504 at the route timeout',
          timedOut.length === burst && Math.min(...ms) >= routeTimeout && Math.max(...ms) <= routeTimeout + slack,
          `${timedOut.length}/${burst} answered 504 (${[...new Set(timedOut.map((a) => a.code))].join(', ') || 'none'}) after ${Math.min(...ms)}–${Math.max(...ms)} ms (timeout ${routeTimeout} ms, +${slack} ms slack; the instance would answer at ${answerAfter} ms)`,
        ),
      );
      const released = await waitFor(async () => held.size === 0, 3000);
      checks.push(
        check(
          'the slow requests are cancelled upstream',
          released !== undefined,
          `${held.size} requests still held by the instance ${released ?? 3000} ms after the last 504` +
            ` (${slow.acceptedSockets()} connections accepted in all)`,
        ),
      );
      const during = load.between(t0, burstEnd);
      const lat = during.map((s) => s.done - s.at);
      const failed = load.failures(t0, burstEnd);
      checks.push(
        check(
          'no queue build-up for other routes',
          during.length > 0 && failed.length === 0 && Math.max(...lat) < routeTimeout,
          `${during.length} requests to another route during the burst, ${failed.length} failed; latency p50 ${percentile(lat, 0.5)} ms, p99 ${percentile(lat, 0.99)} ms, max ${Math.max(...lat)} ms (before: p99 ${percentile(baseline, 0.99)} ms; must stay below the ${routeTimeout} ms timeout)`,
        ),
      );
    } finally {
      await load?.stop();
      await agent.close().catch(() => {});
      await cleanUp(handles, [slow, fast]);
    }
    return { checks };
  },
};
