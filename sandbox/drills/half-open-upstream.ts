/**
 * Drill `half-open-upstream` (#8): one of two instances goes silent the way a vanished host does
 * (no FIN, no RST: its sockets stay open and nothing answers, health checks included). Under a
 * steady load of idempotent GETs, the gateways must notice (the route timeout, then passive
 * ejection and the health ladder), send the affected requests to the other instance, and no
 * request may fail. The silence is made in the instance (it stops answering on every socket),
 * not in the network: the gateway sees exactly what a partitioned host gives it.
 */
import type { ServerResponse } from 'node:http';
import { check, type Drill, type DrillCheck, numberParam } from './drill.js';
import { drillDescription } from './drill-names.js';
import { cleanUp, type DrillUpstream, joinFleet, percentile, startUpstream, waitListed } from './drill-upstream.js';
import { excludedEverywhere, liveProcesses, waitFor } from './fleet-probe.js';
import { LoadLoop } from './load-loop.js';

/** The half-open-upstream drill. */
export const halfOpenUpstreamDrill: Drill = {
  name: 'half-open-upstream',
  description: drillDescription('half-open-upstream'),
  async run({ client, fleet, params, log }) {
    const routeTimeout = numberParam(params, 'routeTimeout', 1000);
    const observe = numberParam(params, 'observe', 2000);
    // Passive ejection after a few timed-out requests; the health ladder at the latest.
    const bound = numberParam(
      params,
      'bound',
      fleet.gateway.healthIntervalMs * fleet.gateway.healthMaxFailures + fleet.gateway.healthTimeoutMs + 1000,
    );
    const { gatewayUrls } = await liveProcesses(client);
    let silent = false;
    const held = new Set<ServerResponse>();
    const answer =
      (id: string): Parameters<typeof startUpstream>[0] =>
      (req, res) => {
        if (silent && id === 'drill-halfopen-2') {
          held.add(res);
          return;
        }
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(req.url === '/health' ? '{"status":"UP"}' : JSON.stringify({ instance_id: id, path: req.url }));
      };
    const upstreams: DrillUpstream[] = [];
    const handles = [];
    const checks: DrillCheck[] = [];
    let load: LoadLoop | undefined;
    try {
      for (const id of ['drill-halfopen-1', 'drill-halfopen-2']) {
        const up = await startUpstream(answer(id));
        upstreams.push(up);
        handles.push(
          joinFleet(gatewayUrls, {
            service: 'drill-halfopen',
            instanceId: id,
            url: up.url,
            routes: [{ method: 'GET', path: '/drill-halfopen/**', timeoutMs: routeTimeout }],
          }),
        );
      }
      if ((await waitListed(gatewayUrls, ['drill-halfopen-1', 'drill-halfopen-2'], 10_000)) === undefined)
        return { checks: [check('the drill instances register', false, 'not listed within 10 s')] };
      load = new LoadLoop({
        gateways: gatewayUrls,
        paths: ['/drill-halfopen/items'],
        concurrency: 4,
        maxRps: 60,
        timeoutMs: 5000,
      });
      load.start();
      await new Promise((r) => setTimeout(r, 1000));
      const before = load.between(0).filter((s) => s.instanceId === 'drill-halfopen-2').length;
      const t0 = Date.now();
      silent = true;
      log(
        `drill-halfopen-2 went silent (sockets open, nothing answers) after serving ${before} requests; route timeout ${routeTimeout} ms`,
      );
      const detectMs = await waitFor(
        () => excludedEverywhere(gatewayUrls, 'GET', '/drill-halfopen/items', 'drill-halfopen-2'),
        bound + 5000,
      );
      const detectedAt = Date.now();
      checks.push(
        check(
          'the silent instance leaves routing',
          detectMs !== undefined && detectMs <= bound,
          detectMs === undefined
            ? `still a candidate ${bound + 5000} ms after it went silent`
            : `excluded on every gateway ${detectMs} ms after it went silent (bound ${bound} ms: health ladder ${fleet.gateway.healthMaxFailures} × ${fleet.gateway.healthIntervalMs} ms + timeout + 1 s)`,
        ),
      );
      await new Promise((r) => setTimeout(r, observe));
      const all = load.between(t0);
      const failed = load.failures(t0);
      const slowOnes = all.filter((s) => s.done - s.at >= routeTimeout);
      const lat = all.map((s) => s.done - s.at);
      checks.push(
        check(
          'no failed idempotent request',
          failed.length === 0 && all.length > 0,
          `${load.describe(t0)}; ${slowOnes.length} waited out the route timeout and were retried on the other instance (p99 ${percentile(lat, 0.99)} ms, max ${Math.max(...lat)} ms)`,
        ),
      );
      const after = load.between(detectedAt).filter((s) => s.instanceId === 'drill-halfopen-2' && s.ok).length;
      checks.push(check('nothing is answered by the silent instance', after === 0, `${after} answers after detection`));
    } finally {
      await load?.stop();
      for (const r of held) r.destroy();
      await cleanUp(handles, upstreams);
    }
    return { checks };
  },
};
