/**
 * Drill `store-partition` (#6, Redis/etcd): the store stops answering without closing anything
 * (its process is SIGSTOPped: sockets stay open, no RST, no FIN), as in a partition, a paused
 * VM or a GC stall. Issue #14 point 1 sets the bounds: within 1 s every gateway says `degraded`
 * with `registry.connected: false`; a heartbeat and a registration sent during the stall are
 * answered 503 `ERR_FG_STORE_UNAVAILABLE` with `Retry-After` within 1 s; proxied requests keep
 * being served from the last-known routes; after SIGCONT every gateway is `healthy` and
 * connected again within 1 s, and nothing registered before the stall is lost.
 *
 * The stall is a SIGSTOP of the local store process found by its port (sandbox/drills/port-owner.ts);
 * the sandbox runs no network namespace, so this drill does not cut a link.
 */
import { request } from 'undici';
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
import { pidListeningOn } from './port-owner.js';

interface Answer {
  status: number;
  ms: number;
  code: string | undefined;
  retryAfter: string | undefined;
}

/** The store-partition drill. */
export const storePartitionDrill: Drill = {
  name: 'store-partition',
  description: drillDescription('store-partition'),
  backends: ['redis', 'etcd'],
  async run({ client, state, fleet, params, log }) {
    const bound = numberParam(params, 'bound', 1000);
    const stall = numberParam(params, 'stall', 3000);
    const port = storePort(state.storeUrl);
    const pid = port === undefined ? undefined : pidListeningOn(port);
    if (pid === undefined)
      return {
        skip: `no local store process found listening on ${state.storeUrl ?? '?'} (containers cannot be paused from here)`,
      };
    if (!(await waitFleetRoutable(client, 15_000))) log('warning: not every instance was routable before the drill');
    const { processes, gatewayUrls } = await liveProcesses(client);
    const expected = runningInstances(processes);
    const paths = fleet.services.flatMap((s) => drillPaths(s.routes));
    const victim = expected[0];
    if (victim === undefined || paths.length === 0) return { skip: 'no instance or GET route' };
    const load = new LoadLoop({ gateways: gatewayUrls, paths, concurrency: 4, maxRps: 100 });
    const checks: DrillCheck[] = [];
    let stopped = false;
    load.start();
    try {
      await new Promise((r) => setTimeout(r, 500));
      process.kill(pid, 'SIGSTOP');
      stopped = true;
      const t0 = Date.now();
      log(`${state.backend} (pid ${pid}) stopped answering (SIGSTOP); holding the stall for ${stall} ms`);
      // The calls a client would make during the stall, to every gateway at once.
      const heartbeats = gatewayUrls.map((g) =>
        call('PUT', `${g}/internal/services/${victim.service}/instances/${victim.name}/heartbeat`),
      );
      const registrations = gatewayUrls.map((g, i) =>
        call('POST', `${g}/internal/register-service`, {
          service: 'drill-stall',
          instance_id: `drill-stall-${i + 1}`,
          url: 'http://127.0.0.1:9',
          routes: [{ method: 'GET', path: '/drill-stall/**' }],
        }),
      );
      const seen = new Map<string, number>();
      const known = await waitFor(async () => {
        await Promise.all(
          gatewayUrls.map(async (g) => {
            if (seen.has(g)) return;
            const h = await gatewayHealth(g);
            const reg = h?.registry as { connected?: boolean } | undefined;
            if (h?.status === 'degraded' && reg?.connected === false) seen.set(g, Date.now() - t0);
          }),
        );
        return seen.size === gatewayUrls.length;
      }, stall);
      checks.push(
        check(
          'degraded and disconnected within 1 s',
          known !== undefined && Math.max(...seen.values()) <= bound,
          `${seen.size}/${gatewayUrls.length} gateways said degraded + connected: false${seen.size ? ` after ${[...seen.values()].join('/')} ms` : ''} (bound ${bound} ms)`,
        ),
      );
      const answered = [...(await Promise.all(heartbeats)), ...(await Promise.all(registrations))];
      const good = answered.filter(
        (a) => a.status === 503 && a.code === 'ERR_FG_STORE_UNAVAILABLE' && a.retryAfter !== undefined && a.ms <= bound,
      );
      checks.push(
        check(
          'heartbeats and registrations answered 503 within 1 s',
          good.length === answered.length,
          `${good.length}/${answered.length} answered 503 ERR_FG_STORE_UNAVAILABLE with Retry-After within ${bound} ms; answers: ${answered.map((a) => `${a.status}${a.code ? ` ${a.code}` : ''} in ${a.ms} ms`).join(', ')}`,
        ),
      );
      const rest = stall - (Date.now() - t0);
      if (rest > 0) await new Promise((r) => setTimeout(r, rest));
      const resumed = Date.now();
      checks.push(
        check('last-known routes keep serving', load.failures(t0, resumed).length === 0, load.describe(t0, resumed)),
      );
      process.kill(pid, 'SIGCONT');
      stopped = false;
      const healthy = await waitFor(async () => {
        const health = await Promise.all(gatewayUrls.map((g) => gatewayHealth(g)));
        return health.every(
          (h) => h?.status === 'healthy' && (h.registry as { connected?: boolean } | undefined)?.connected === true,
        );
      }, bound + 10_000);
      checks.push(
        check(
          'healthy and connected within 1 s after',
          healthy !== undefined && healthy <= bound,
          healthy === undefined
            ? `not healthy ${bound + 10_000} ms after SIGCONT`
            : `${healthy} ms after SIGCONT (bound ${bound} ms)`,
        ),
      );
      const listing = await listFleet(gatewayUrls);
      const kept = expected.filter((p) => routableEverywhere(listing, p.name));
      checks.push(
        check(
          'nothing lost',
          kept.length === expected.length,
          `${kept.length}/${expected.length} registered before the stall listed on every gateway after it`,
        ),
      );
    } finally {
      if (stopped) process.kill(pid, 'SIGCONT');
      await load.stop();
      // The registrations sent during the stall may have landed after it: take them out again.
      for (const [i, g] of gatewayUrls.entries())
        await call('DELETE', `${g}/internal/services/drill-stall/instances/drill-stall-${i + 1}`).catch(() => {});
    }
    return { checks };
  },
};

function storePort(storeUrl: string | undefined): number | undefined {
  const first = storeUrl?.split(',')[0];
  if (first === undefined) return undefined;
  const m = /:(\d+)\/?$/.exec(first);
  return m ? Number(m[1]) : undefined;
}

async function call(method: 'PUT' | 'POST' | 'DELETE', url: string, body?: unknown): Promise<Answer> {
  const t0 = Date.now();
  try {
    const res = await request(url, {
      method,
      headers: { 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      headersTimeout: 10_000,
      bodyTimeout: 10_000,
    });
    const text = await res.body.text();
    const retryAfter = res.headers['retry-after'];
    return {
      status: res.statusCode,
      ms: Date.now() - t0,
      code: /"code":"([A-Z_]+)"/.exec(text)?.[1],
      retryAfter: typeof retryAfter === 'string' ? retryAfter : undefined,
    };
  } catch (err) {
    return { status: 0, ms: Date.now() - t0, code: (err as Error).message, retryAfter: undefined };
  }
}
