/**
 * The store-outage drill of the shared-store scenario: while a bounded load loop sends GETs
 * through both gateways, the store is SIGKILLed for {@link OUTAGE_MS} and restarted. Measured and
 * asserted: proxied success during the outage, `/health` degraded (with a reason) then healthy,
 * heartbeats answered 503 + Retry-After during the outage, and every registration back after it.
 */
import assert from 'node:assert/strict';
import { waitUntil } from '../../sandbox/servers/wait.js';
import type { FleetService } from './fleet-service.js';
import { startFleetService } from './fleet-service.js';
import { errorCodeOf, type GatewayProbe, type HealthBody, type LoadSample, type RawAnswer } from './gateway-probe.js';
import { type GatewayProcess, startGateway } from './gateway-process.js';
import type { ServiceProcess } from './service-process.js';

/** A store the scenario can crash and restart. */
export interface SharedStore {
  /** `REGISTRY_*` variables that point a gateway at it. */
  readonly env: Record<string, string>;
  /** SIGKILL; address and data directory are kept. */
  kill(): Promise<void>;
  /** Starts it again on the same address (resolves once it answers). */
  restart(): Promise<void>;
  /** Stops it for good. */
  stop(): Promise<void>;
}

/** How long the store stays down. A fixed span: the outage is the scenario, not a wait. */
export const OUTAGE_MS = 3000;
/**
 * Least share of proxied requests that must succeed while the store is down. Not 100%: a request
 * may time out on a busy 2-core machine. The routing table going dark (no route, no instance)
 * is a different matter and is not tolerated at all.
 */
export const MIN_OUTAGE_SUCCESS = 0.99;
/** Answers that mean the gateway forgot its last-known routes. */
const FORGOTTEN = new Set(['ERR_FG_NO_ROUTE', 'ERR_FG_NO_HEALTHY_INSTANCE']);
/**
 * From "store restarted" to "both gateways healthy and listing every instance": the store
 * client's reconnect backoff (≤ 1 s for ioredis and gRPC as configured), the service clients'
 * wait (Retry-After 1 s, or registration backoff capped at the 667 ms heartbeat interval), one
 * heartbeat to learn of lost data (404) and re-register, plus 2 s slack for a busy 2-core machine.
 */
export const RECOVERY_BOUND_MS = 5000;

/** What the scenario registered so far (the drill adds to it; the scenario cleans it up). */
export interface RunningFleet {
  services: FleetService[];
  children: ServiceProcess[];
}

/** Inputs of {@link runOutageDrill}. */
export interface OutageDrill {
  store: SharedStore;
  gateways: [GatewayProcess & { url: string }, GatewayProcess & { url: string }];
  /** The gateways' environment, for a third gateway started after the outage. */
  gatewayEnv: Record<string, string>;
  probe: GatewayProbe;
  fleet: RunningFleet;
  report(line: string): void;
}

type Gateway = GatewayProcess & { url: string };

/** Runs the drill; throws an AssertionError naming what failed, after reporting the numbers. */
export async function runOutageDrill(drill: OutageDrill): Promise<void> {
  const { store, gateways, probe, fleet, report } = drill;
  const [a, b] = gateways;
  // A service with an instance behind each gateway, so some routes have two instances.
  for (const [gw, side] of [
    [a, 'A'],
    [b, 'B'],
  ] as const) {
    fleet.services.push(await startFleetService({ gateway: gw.url, service: 'outage', label: `outage-${side}` }));
  }
  const services = [...fleet.services];
  await waitUntil(async () => (await Promise.all(gateways.map((gw) => listsAll(probe, gw, services)))).every(Boolean), {
    timeoutMs: 5000,
    intervalMs: 20,
    description: 'both gateways to list every instance before the outage',
  });
  const paths = [...new Set(services.map((s) => s.service))].map((name) => `/api/${name}/load`);
  const loop = probe.load([a.url, b.url], paths, { workersPerGateway: 2, pauseMs: 5 });
  const degraded = new Map<string, { at: number; body: HealthBody }>();
  const lastOutageHealth = new Map<string, HealthBody>();
  const healthyAt = new Map<string, number>();
  let heartbeats: { gateway: string; answer: RawAnswer; ms: number }[] = [];
  let killedAt = 0;
  let restartAt = 0;
  let restartedAt = 0;
  let recoveredAt = 0;
  let allListedAt = 0;
  try {
    await waitUntil(() => loop.samples.filter((x) => x.status === 200).length >= 20, {
      timeoutMs: 10_000,
      description: 'the load loop to warm up',
    });
    await store.kill();
    killedAt = Date.now();
    const heartbeatProbes = Promise.all(
      (
        [
          [a, services.find((s) => s.label === 'outage-A')!],
          [b, services.find((s) => s.label === 'outage-B')!],
        ] as const
      ).map(async ([gw, svc]) => {
        const start = Date.now();
        const path = `/internal/services/${svc.service}/instances/${encodeURIComponent(svc.instanceId)}/heartbeat`;
        const answer = await probe.raw(gw.url, 'PUT', path, 8000);
        return { gateway: gw.name, answer, ms: Date.now() - start };
      }),
    );
    await waitUntil(
      async () => {
        for (const gw of gateways) {
          if (degraded.has(gw.name)) continue;
          const body = await probe.health(gw.url);
          if (body.status !== 'healthy') degraded.set(gw.name, { at: Date.now(), body });
        }
        return degraded.size === 2;
      },
      { timeoutMs: OUTAGE_MS, intervalMs: 50, description: '/health on both gateways to leave "healthy"' },
    ).catch(() => {}); // asserted below, with the numbers
    heartbeats = await heartbeatProbes;
    // Hold the outage for its full span (the scenario's fixed duration).
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, killedAt + OUTAGE_MS - Date.now())));
    for (const gw of gateways) lastOutageHealth.set(gw.name, await probe.health(gw.url));
    restartAt = Date.now();
    await store.restart();
    restartedAt = Date.now();
    await waitUntil(
      async () => {
        await Promise.all(
          gateways.map(async (gw) => {
            if (!healthyAt.has(gw.name) && (await probe.health(gw.url)).status === 'healthy')
              healthyAt.set(gw.name, Date.now());
          }),
        );
        if (
          allListedAt === 0 &&
          (await Promise.all(gateways.map((gw) => listsAll(probe, gw, services)))).every(Boolean)
        )
          allListedAt = Date.now();
        return healthyAt.size === 2 && allListedAt !== 0;
      },
      { timeoutMs: RECOVERY_BOUND_MS + 10_000, intervalMs: 50, description: 'recovery after the restart' },
    ).catch(() => {}); // asserted below, with the numbers
    recoveredAt = Date.now();
    const settled = loop.samples.length;
    await waitUntil(() => loop.samples.length >= settled + 40, {
      timeoutMs: 10_000,
      description: '40 more proxied requests after recovery',
    });
  } finally {
    await loop.stop();
  }
  // The proof that nothing was lost in the store itself: a gateway that never saw the old cache.
  const fresh = await startGateway(drill.gatewayEnv, { name: 'gateway C' });
  let freshListsAllMs: number | undefined;
  try {
    await waitUntil(() => listsAll(probe, fresh, services), {
      timeoutMs: 5000,
      intervalMs: 20,
      description: 'a gateway started after the outage to list every instance',
    }).then(
      () => {
        freshListsAllMs = Date.now() - fresh.readyAt!;
      },
      () => {},
    ); // asserted below, with the numbers
  } finally {
    await fresh.stop();
  }

  // The numbers first, so a failing run still says what it saw.
  const during = loop.samples.filter((x) => x.start >= killedAt && x.start < restartAt);
  const reconnecting = loop.samples.filter((x) => x.start >= restartAt && x.start < recoveredAt);
  const afterwards = loop.samples.filter((x) => x.start >= recoveredAt);
  const rel = (at: number): string => `+${at - killedAt} ms`;
  report(
    `outage ${restartAt - killedAt} ms (restart took ${restartedAt - restartAt} ms): ` +
      `proxied success while down ${rate(during)}; between restart and recovery ${rate(reconnecting)}; ` +
      `after recovery ${rate(afterwards)}; ${loop.samples.length} requests in all`,
  );
  for (const f of during.filter((x) => !ok(x))) {
    report(`  failure while down at ${rel(f.start)} via ${nameOf(f.gateway, gateways)} ${f.path}: ${describe(f)}`);
  }
  for (const f of reconnecting.filter((x) => !ok(x)).slice(0, 20)) {
    report(`  failure after restart at ${rel(f.start)} via ${nameOf(f.gateway, gateways)} ${f.path}: ${describe(f)}`);
  }
  for (const [name, d] of degraded) {
    const r = d.body.registry;
    report(
      `${name} /health ${d.body.status} ${rel(d.at)} after the kill: connected=${r.connected}, ` +
        `reason "${r.degraded_reason ?? r.self_preservation_reason ?? ''}"`,
    );
  }
  for (const [name, body] of lastOutageHealth) {
    report(
      `${name} /health at the end of the outage: ${body.status}, self_preservation=${body.registry.self_preservation}`,
    );
  }
  for (const h of heartbeats) {
    report(
      `raw heartbeat via ${h.gateway} while down: ${h.answer.status} ${errorCodeOf(h.answer.body)} ` +
        `retry-after=${String(h.answer.headers['retry-after'])} in ${h.ms} ms`,
    );
  }
  const events = services.flatMap((s) => s.events.map((e) => ({ ...e, label: s.label })));
  const clientFailures = events.filter(
    (e) => (e.type === 'heartbeat-failed' || e.type === 'registration-failed') && e.at >= killedAt,
  );
  const summary = new Map<string, number>();
  for (const e of clientFailures) {
    const key = `${e.type} ${e.httpStatus ?? 'no-answer'} ${e.code}`;
    summary.set(key, (summary.get(key) ?? 0) + 1);
  }
  const reregistered = events.filter((e) => e.type === 'reregistered' && e.at >= killedAt).length;
  report(
    `clients: ${[...summary].map(([k, n]) => `${n}× ${k}`).join(', ') || 'no failures'}; ` +
      `${reregistered} re-registrations of ${services.length} instances`,
  );
  report(
    `recovery after the restart: ${[...healthyAt].map(([n, at]) => `${n} healthy +${at - restartedAt} ms`).join(', ')}; ` +
      `every instance listed by both +${allListedAt === 0 ? 'never' : allListedAt - restartedAt} ms ` +
      `(bound ${RECOVERY_BOUND_MS} ms); a gateway started afterwards listed all ` +
      `${freshListsAllMs === undefined ? 'never' : `${freshListsAllMs} ms after it was ready`}`,
  );

  assert.ok(during.length >= 20, `only ${during.length} proxied requests while the store was down`);
  const forgotten = during.filter((x) => x.error !== undefined && FORGOTTEN.has(x.error));
  assert.equal(forgotten.length, 0, `${forgotten.length} requests found no route or instance while the store was down`);
  assert.ok(
    successShare(during) >= MIN_OUTAGE_SUCCESS,
    `proxied success while the store was down ${rate(during)} < ${MIN_OUTAGE_SUCCESS * 100}%`,
  );
  for (const gw of gateways) {
    const d = degraded.get(gw.name);
    assert.equal(d?.body.status, 'degraded', `${gw.name} /health during the outage`);
    assert.ok((d.body.registry.degraded_reason ?? '').length > 0, `${gw.name}: degraded without a reason`);
    assert.equal(lastOutageHealth.get(gw.name)?.status, 'degraded', `${gw.name} /health at the end of the outage`);
  }
  for (const h of heartbeats) {
    assert.equal(h.answer.status, 503, `heartbeat via ${h.gateway} while down: ${h.answer.body}`);
    assert.equal(errorCodeOf(h.answer.body), 'ERR_FG_STORE_UNAVAILABLE');
    assert.ok(h.answer.headers['retry-after'] !== undefined, `heartbeat via ${h.gateway}: no Retry-After`);
  }
  assert.ok(
    clientFailures.some((e) => e.type === 'heartbeat-failed' && e.httpStatus === 503),
    'no client heartbeat was answered 503 during the outage',
  );
  for (const e of clientFailures) {
    assert.equal(e.httpStatus, 503, `${e.label}: ${e.type} without a 503 (${e.code})`);
    assert.equal(e.code, 'ERR_FG_STORE_UNAVAILABLE', `${e.label}: ${e.type}`);
  }
  for (const gw of gateways) {
    const at = healthyAt.get(gw.name);
    assert.ok(at !== undefined && at - restartedAt <= RECOVERY_BOUND_MS, `${gw.name} not healthy within the bound`);
  }
  assert.ok(allListedAt !== 0 && allListedAt - restartedAt <= RECOVERY_BOUND_MS, 'registrations lost');
  assert.ok(freshListsAllMs !== undefined, 'a gateway started after the outage does not list every instance');
  for (const s of services) {
    assert.equal(s.handle.state, 'registered', `${s.label} client state`);
    // Once: the store lost the lease (Redis: every key; etcd: the lease lapsed). A second time
    // would mean a registration confirmed after the restart was lost again.
    const times = s.events.filter((e) => e.type === 'reregistered' && e.at >= killedAt).length;
    assert.equal(times, 1, `${s.label} re-registered ${times} times after the outage`);
  }
  assert.equal(successShare(afterwards), 1, `proxied success after recovery ${rate(afterwards)}`);
}

/**
 * Whether the gateway lists every instance with a lease still running. A held instance (kept by
 * self-preservation while the store was down) is listed too, but with a lease that ended: only a
 * heartbeat or registration the store accepted after the restart gives a running lease again.
 */
async function listsAll(probe: GatewayProbe, gw: Gateway, services: readonly FleetService[]): Promise<boolean> {
  const listed = await probe.instances(gw.url);
  const now = Date.now();
  return services.every((s) => {
    const inst = listed.get(s.instanceId);
    return inst?.service === s.service && Date.parse(inst.expires_at) > now;
  });
}

/** A 200 from an instance of the service the path names. */
function ok(x: LoadSample): boolean {
  const service = x.path.split('/')[2];
  return x.status === 200 && x.upstream?.startsWith(`${service}-`) === true;
}

function successShare(xs: readonly LoadSample[]): number {
  return xs.length === 0 ? 0 : xs.filter(ok).length / xs.length;
}

function rate(xs: readonly LoadSample[]): string {
  return `${xs.filter(ok).length}/${xs.length} (${(successShare(xs) * 100).toFixed(1)}%)`;
}

function describe(x: LoadSample): string {
  return `${x.status === 0 ? 'no answer' : x.status} ${x.error ?? `upstream ${x.upstream}`} after ${x.end - x.start} ms`;
}

function nameOf(url: string, gateways: readonly Gateway[]): string {
  return gateways.find((g) => g.url === url)?.name ?? url;
}
