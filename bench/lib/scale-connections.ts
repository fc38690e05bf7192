/**
 * What a heartbeat costs in the forms a real fleet sends it, beside the warm keep-alive rounds of
 * bench/lib/scale-heartbeats.ts:
 *
 * - A new connection each. The SDK's undici Agent drops a socket idle for the server's keep-alive
 *   hint less 2 s (3 s against the gateway's 5 s), so at a 30 s interval every heartbeat of a real
 *   fleet connects anew (lib/client/register-service.keepalive.test.ts). Priced in rounds rotating
 *   over the gateway and the floor servers, as the warm rows are; then the steady state (the real
 *   rate of a 30 s interval) in that form, beside each floor's.
 * - A fleet of idle keep-alive connections, one per instance: what an operator would buy by
 *   keeping sockets across the interval (`SERVER_KEEPALIVE_TIMEOUT` above it, and the clients'
 *   keep-alive with it). The gateway's RSS before and after the connections open, and a heartbeat
 *   on one of them beside a new connection each, in rounds of alternating order on the same gateway.
 */
import { rssMb, totalOf } from './process-cpu.js';
import {
  COMPRESSION,
  HEARTBEAT_INTERVAL_S,
  HEARTBEAT_ROUND_S,
  HEARTBEAT_ROUNDS,
  type HeartbeatBench,
  heartbeatsTo,
  printRotation,
  rotate,
  steadyShareOf,
  type Target,
  targetsOf,
} from './scale-heartbeats.js';
import { line, median, range, splitText } from './scale-print.js';
import { mark } from './scale-processes.js';

/**
 * The gateway settings the idle fleet needs: its connections must outlive the phase (the default
 * keep-alive, 5 s, would close them) and fit under the connection cap (default 10,000, which one
 * socket per instance of a 10,000 fleet plus the bench's own would pass). The other rows keep
 * their sockets busy, so neither setting touches them.
 * @example startGateway({ ...keepAliveFleetEnv(10_000), REGISTRY_TYPE: 'INMEMORY' })
 */
export function keepAliveFleetEnv(instances: number): Record<string, string> {
  return { SERVER_KEEPALIVE_TIMEOUT: '600s', SERVER_MAX_CONNECTIONS: String(instances + 2000) };
}

/**
 * The "a new connection each" rows: the compressed rate, each heartbeat on a TCP connection of its
 * own that the client closes once answered, the gateway and each floor in rotating rounds; then
 * the steady state in that form, the gateway and each floor in turn.
 * @example await printNewConnectionHeartbeats(bench);
 */
export async function printNewConnectionHeartbeats(bench: HeartbeatBench): Promise<void> {
  mark('heartbeat-new-connection');
  await renewAll(bench);
  const fastRate = (bench.registered / HEARTBEAT_INTERVAL_S) * COMPRESSION;
  const rotation = await rotate(targetsOf(bench), HEARTBEAT_ROUNDS, (t) =>
    heartbeatsTo(bench, t.url, fastRate, HEARTBEAT_ROUND_S, 'fresh'),
  );
  printRotation(
    rotation,
    'heartbeat, a new connection each',
    `, ${COMPRESSION}× a ${HEARTBEAT_INTERVAL_S} s interval, each connect + request + close`,
    bench.floors,
    (kind) => `new-conn floor (${kind})`,
  );
  // The real rate, as a fleet's SDKs send it: what the steady state costs users.
  const realRate = bench.registered / HEARTBEAT_INTERVAL_S;
  const gateway = await steadyShareOf(bench, bench.gateway.url, bench.gateway.pid, 'fresh');
  const share = totalOf(gateway);
  line(
    'steady state, a new connection each',
    `${(share * 100).toFixed(2)} % of a core at ${realRate.toFixed(0)} heartbeats/s (user ${(gateway.user * 100).toFixed(2)} %, system ${(gateway.sys * 100).toFixed(2)} %)`,
    `≤ 2 %: ${share <= 0.02 ? 'met' : 'MISSED'}`,
  );
  for (const f of bench.floors) {
    const floor = totalOf(await steadyShareOf(bench, f.url, f.pid, 'fresh'));
    line(
      `  steady floor (${f.kind})`,
      `${(floor * 100).toFixed(2)} % of a core at the same rate; gateway ÷ floor ${(share / floor).toFixed(2)}×`,
    );
  }
}

/** Unmeasured: every instance renewed, so none expires while the next rounds come round to it. */
async function renewAll(bench: HeartbeatBench): Promise<void> {
  const renewed = await bench.askAll({ cmd: 'renew' }, 600_000);
  const expired = renewed.reduce((n, r) => n + r.failed, 0);
  if (expired > 0) {
    line(
      '  renewed before these rows',
      `${expired} instances FAILED (${renewed.find((r) => r.firstError)?.firstError})`,
    );
  }
}

/**
 * The idle keep-alive fleet rows: opens `count` connections to the gateway (a heartbeat each,
 * then idle), reads its RSS before and after, prices a heartbeat on one of them against a new
 * connection each in alternating rounds, and closes them.
 * @example await printKeepAliveFleet(bench, 10_000);
 */
export async function printKeepAliveFleet(bench: HeartbeatBench, count: number): Promise<void> {
  mark('keep-alive-fleet');
  const { pid, url } = bench.gateway;
  await renewAll(bench);
  const rssBefore = rssMb(pid);
  const t0 = performance.now();
  const opened = await bench.askAll({ cmd: 'open-idle', count: Math.ceil(count / bench.clients) }, 600_000);
  const openS = (performance.now() - t0) / 1000;
  const rssOpen = rssMb(pid);
  const ok = opened.reduce((n, r) => n + r.ok, 0);
  const failed = opened.reduce((n, r) => n + r.failed, 0);
  const firstError = opened.find((r) => r.firstError !== undefined)?.firstError;

  const fastRate = (bench.registered / HEARTBEAT_INTERVAL_S) * COMPRESSION;
  let reconnects = 0;
  const forms: Target[] = [
    { name: 'idle', url, pid },
    { name: 'fresh', url, pid },
  ];
  const rotation = await rotate(forms, HEARTBEAT_ROUNDS, async (t) => {
    const r = await heartbeatsTo(bench, t.url, fastRate, HEARTBEAT_ROUND_S, t.name === 'idle' ? 'idle' : 'fresh');
    reconnects += r.reconnects;
    return r;
  });
  const rssRounds = rssMb(pid);
  await bench.askAll({ cmd: 'close-idle' }, 60_000);

  const kbEach = ((rssOpen - rssBefore) * 1024) / Math.max(1, ok);
  line(
    `${ok} idle keep-alive connections`,
    `gateway RSS ${rssBefore.toFixed(0)} → ${rssOpen.toFixed(0)} MB once open (+${(rssOpen - rssBefore).toFixed(1)} MB, ${kbEach.toFixed(1)} KB each; opened in ${openS.toFixed(1)} s, a heartbeat each), ${rssRounds.toFixed(0)} MB after the rounds below${failed > 0 ? `; ${failed} FAILED (${firstError})` : ''}`,
  );
  const warm = rotation.perRound.get('idle')!;
  const fresh = rotation.perRound.get('fresh')!;
  const ratios = fresh.map((f, k) => totalOf(f) / totalOf(warm[k]!));
  const warmUs = median(warm.map(totalOf));
  const freshUs = median(fresh.map(totalOf));
  line(
    '  heartbeat on one of them',
    `${warmUs.toFixed(0)} µs gateway CPU each (rounds ${range(warm.map(totalOf))}; ${splitText(warm)}; ${rotation.gatewayOps} in ${rotation.gatewayWallS.toFixed(1)} s, ${reconnects} reconnected)${rotation.firstError === undefined ? '' : `, FAILED: ${rotation.firstError}`}`,
  );
  line(
    '  a new connection each, same rounds',
    `${freshUs.toFixed(0)} µs gateway CPU each (rounds ${range(fresh.map(totalOf))}; ${splitText(fresh)}); new ÷ warm ${median(ratios).toFixed(2)}× (rounds ${range(ratios, 2)})`,
  );
  // The trade at the real rate: CPU a reconnecting fleet pays against memory a keep-alive one holds.
  const realRate = bench.registered / HEARTBEAT_INTERVAL_S;
  line(
    '  keep-alive vs reconnect',
    `at ${realRate.toFixed(0)} heartbeats/s a new connection each costs ${(((freshUs - warmUs) * realRate) / 1e4).toFixed(2)} % of a core more; keeping ${ok} connections holds ${(rssOpen - rssBefore).toFixed(1)} MB`,
  );
}
