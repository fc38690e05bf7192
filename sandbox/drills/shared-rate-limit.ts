/**
 * Drill `shared-rate-limit` (#11): three gateway processes (the bin's gateway plus `rateLimit()`
 * with the Redis store, see sandbox/drills/rate-limit-gateway.ts) on the sandbox's Redis share
 * one token bucket. Under a load well above the limit, spread over the three, the requests
 * admitted over the window may not exceed what one bucket allows (capacity + refill × window)
 * by more than 1 %; and the bucket must really admit about that much (it is not just closed).
 */
import { join } from 'node:path';
import { ManagedChild, nodeChildSpec } from '../supervisor.js';
import { check, type Drill, type DrillCheck, numberParam } from './drill.js';
import { drillDescription } from './drill-names.js';
import { liveProcesses, waitFleetRoutable } from './fleet-probe.js';
import { LoadLoop } from './load-loop.js';

/** The shared-rate-limit drill. */
export const sharedRateLimitDrill: Drill = {
  name: 'shared-rate-limit',
  description: drillDescription('shared-rate-limit'),
  backends: ['redis'],
  async run({ client, state, fleet, params, log }) {
    const gateways = Math.round(numberParam(params, 'gateways', 3));
    const capacity = numberParam(params, 'capacity', 50);
    const refill = numberParam(params, 'refill', 20);
    const duration = numberParam(params, 'duration', 5000);
    const service = fleet.services.find((s) => s.routes.some((r) => r.method === 'GET'));
    if (service === undefined || state.storeUrl === undefined) return { skip: 'no GET route or no store address' };
    const path = (service.routes.find((r) => r.method === 'GET') as { path: string }).path;
    const loadPath = path.replace(/\*\*?|:[a-z]+/gi, 'drill');
    if (!(await waitFleetRoutable(client, 15_000))) log('warning: not every instance was routable before the drill');
    const logDir = state.logDir;
    const children: ManagedChild[] = [];
    const urls: string[] = [];
    const checks: DrillCheck[] = [];
    let load: LoadLoop | undefined;
    try {
      await Promise.all(
        Array.from({ length: gateways }, async (_, i) => {
          let url: string | undefined;
          const spec = nodeChildSpec(
            `rate-limit-gateway-${i + 1}`,
            'sandbox/drills/rate-limit-gateway.ts',
            [],
            {
              PORT: '0',
              HOST: '127.0.0.1',
              REGISTRY_TYPE: 'REDIS',
              REGISTRY_REDIS_ADDR: state.storeUrl,
              REGISTRY_TTL: `${fleet.gateway.ttlMs}ms`,
              LOG_LEVEL: 'warn',
              DRILL_RL_REDIS: state.storeUrl,
              DRILL_RL_PATH: path,
              DRILL_RL_CAPACITY: String(capacity),
              DRILL_RL_REFILL: String(refill),
            },
            join(logDir, `rate-limit-gateway-${i + 1}.log`),
          );
          spec.onStdoutLine = (line) => {
            url ??= /fleetgate listening on (\S+)/.exec(line)?.[1];
          };
          const child = new ManagedChild(spec);
          children.push(child);
          await child.start();
          await child.waitUntil(async () => url !== undefined, 30_000, 'listening');
          // Routable once its registry cache has the fleet (it reads the shared Redis registry).
          await child.waitUntil(
            async () =>
              (
                (await fetch(`${url}/_fleetgate/explain?method=GET&path=${loadPath}`).then((r) => r.json())) as {
                  chosen?: unknown;
                }
              ).chosen !== undefined,
            30_000,
            'routable',
          );
          urls.push(url as string);
        }),
      );
      const { gatewayUrls } = await liveProcesses(client);
      log(
        `${gateways} rate-limited gateways on ${state.storeUrl} (beside the fleet's ${gatewayUrls.length}); bucket ${capacity} + ${refill}/s on GET ${path}`,
      );
      load = new LoadLoop({ gateways: urls, paths: [loadPath], concurrency: 12, maxRps: 600, timeoutMs: 5000 });
      load.start();
      await new Promise((r) => setTimeout(r, duration));
      await load.stop();
      const all = load.samples;
      const first = Math.min(...all.map((s) => s.at));
      const last = Math.max(...all.map((s) => s.done));
      const windowS = (last - first) / 1000;
      const limit = capacity + refill * windowS;
      const admitted = all.filter((s) => s.status !== 429 && s.status !== 0 && s.status < 500).length;
      const limited = all.filter((s) => s.status === 429).length;
      const other = all.length - admitted - limited;
      const perGateway = urls.map((u) => all.filter((s) => s.gateway === u && s.status !== 429).length);
      checks.push(
        check(
          'admitted ≤ limit + 1 % over the window',
          admitted <= limit * 1.01,
          `${admitted} admitted of ${all.length} (${limited} × 429, ${other} other) over ${windowS.toFixed(2)} s; one bucket allows ${capacity} + ${refill}/s × ${windowS.toFixed(2)} s = ${limit.toFixed(1)} (+1 % = ${(limit * 1.01).toFixed(1)}); per gateway ${perGateway.join('/')}`,
        ),
      );
      checks.push(
        check(
          'the shared bucket admits what it allows',
          admitted >= limit * 0.9 && other === 0 && perGateway.every((n) => n > 0),
          `${admitted} admitted ≥ 90 % of ${limit.toFixed(1)}; ${other} answers neither admitted nor 429; every gateway admitted some`,
        ),
      );
    } finally {
      await load?.stop();
      await Promise.all(children.map((c) => c.stop(3000)));
    }
    return { checks };
  },
};
