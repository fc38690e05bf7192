/**
 * Drill `cluster-failover` (#4, Redis Cluster): the primary that holds a service's registry keys
 * (hash tag `{service}`) stops answering under load (SIGSTOP: sockets open, as in a partition);
 * after the cluster's node timeout its replica takes over. Registrations must be intact on every
 * gateway, the watch must resume (a registration made after the failover reaches every gateway),
 * and register → listed on every gateway must be back within 1 s. The old primary is let go
 * (SIGCONT) at the end and rejoins as a replica.
 */
import { request } from 'undici';
import { redisCommand } from '../servers/redis-protocol.js';
import { check, type Drill, type DrillCheck, numberParam } from './drill.js';
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
import { pidListeningOn } from './port-owner.js';

/** The cluster-failover drill. */
export const clusterFailoverDrill: Drill = {
  name: 'cluster-failover',
  description: drillDescription('cluster-failover'),
  backends: ['redis-cluster'],
  async run({ client, state, fleet, params, log }) {
    const bound = numberParam(params, 'bound', 1000);
    const probes = Math.round(numberParam(params, 'probes', 5));
    const ports = (state.storeUrl ?? '').split(',').map((u) => Number(/:(\d+)\/?$/.exec(u)?.[1]));
    if (!(await waitFleetRoutable(client, 15_000))) log('warning: not every instance was routable before the drill');
    const { processes, gatewayUrls } = await liveProcesses(client);
    const expected = runningInstances(processes);
    const service = fleet.services.find((s) => drillPaths(s.routes).length > 0);
    if (service === undefined || ports.length === 0) return { skip: 'no GET route or no cluster address' };
    const slot = Number(await redisCommand(ports[0] as number, ['CLUSTER', 'KEYSLOT', `{${service.name}}`]));
    const masterPort = await masterOfSlot(ports, slot);
    const replicaCount = (await clusterNodes(ports)).filter((n) => !n.master).length;
    if (masterPort === undefined) return { skip: `no master found for slot ${slot}` };
    if (replicaCount === 0) return { skip: 'the cluster has no replicas: nothing can take over' };
    const pid = pidListeningOn(masterPort);
    if (pid === undefined) return { skip: `no local process listening on ${masterPort}` };
    const load = new LoadLoop({
      gateways: gatewayUrls,
      paths: drillPaths(service.routes),
      concurrency: 4,
      maxRps: 100,
    });
    const checks: DrillCheck[] = [];
    let paused = false;
    const probeIds: string[] = [];
    load.start();
    try {
      await new Promise((r) => setTimeout(r, 500));
      process.kill(pid, 'SIGSTOP');
      paused = true;
      const t0 = Date.now();
      log(`primary :${masterPort} (pid ${pid}) holding {${service.name}} (slot ${slot}) stopped answering (SIGSTOP)`);
      const others = ports.filter((p) => p !== masterPort);
      const failedOver = await waitFor(async () => {
        const m = await masterOfSlot(others, slot);
        return m !== undefined && m !== masterPort;
      }, 20_000);
      const newMaster = await masterOfSlot(others, slot);
      log(
        failedOver === undefined
          ? 'no replica took over within 20 s'
          : `replica :${newMaster} took over slot ${slot} after ${failedOver} ms`,
      );
      checks.push(
        check(
          'a replica takes over',
          failedOver !== undefined,
          `after ${failedOver ?? '> 20000'} ms (cluster node timeout 1 s)`,
        ),
      );
      const listing = await listFleet(gatewayUrls);
      const intact = expected.filter((p) => routableEverywhere(listing, p.name));
      checks.push(
        check(
          'registrations intact',
          intact.length === expected.length,
          `${intact.length}/${expected.length} listed and routable on every gateway after the failover`,
        ),
      );
      // Watch resumes: register through gateway-1 until the new primary takes writes, then time
      // register → listed on every gateway for a few probes.
      const times: number[] = [];
      const firstOk = await waitFor(
        async () => (await register(gatewayUrls[0] as string, 'drill-failover-0')) === 200,
        15_000,
      );
      const writesAt = Date.now() - t0;
      probeIds.push('drill-failover-0');
      for (let i = 1; i <= probes && firstOk !== undefined; i++) {
        const id = `drill-failover-${i}`;
        probeIds.push(id);
        const at = Date.now();
        if ((await register(gatewayUrls[0] as string, id)) !== 200) continue;
        const ms = await waitFor(async () => {
          const l = await listFleet(gatewayUrls);
          return [...l.values()].every((m) => m?.has(id) === true);
        }, 5000);
        times.push(ms === undefined ? Number.POSITIVE_INFINITY : Date.now() - at);
      }
      checks.push(
        check(
          'watch resumes, propagation ≤ 1 s again',
          times.length === probes && Math.max(...times) <= bound,
          firstOk === undefined
            ? 'no registration accepted within 15 s of the failover'
            : `writes accepted ${writesAt} ms after the primary stopped; then register → listed on all ${gatewayUrls.length} gateways: ${times.map((t) => (Number.isFinite(t) ? `${t}` : '>5000')).join(', ')} ms (bound ${bound} ms)`,
        ),
      );
      const settled = Date.now();
      await new Promise((r) => setTimeout(r, 1000));
      checks.push(
        check(
          'traffic flows after the failover',
          load.failures(settled).length === 0,
          `${load.describe(settled)}; during the failover: ${load.describe(t0, settled)}`,
        ),
      );
    } finally {
      if (paused) process.kill(pid, 'SIGCONT');
      await load.stop();
      for (const id of probeIds)
        await request(`${gatewayUrls[0]}/internal/services/drill-failover/instances/${id}`, { method: 'DELETE' })
          .then((r) => r.body.text())
          .catch(() => {});
    }
    return { checks };
  },
};

async function register(gateway: string, id: string): Promise<number> {
  try {
    const res = await request(`${gateway}/internal/register-service`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        service: 'drill-failover',
        instance_id: id,
        url: 'http://127.0.0.1:9',
        routes: [{ method: 'GET', path: '/drill-failover/**' }],
      }),
      headersTimeout: 3000,
    });
    await res.body.text();
    return res.statusCode;
  } catch {
    return 0;
  }
}

interface ClusterNode {
  port: number;
  master: boolean;
  failing: boolean;
  slots: [number, number][];
}

/** `CLUSTER NODES` from the first node that answers among `ports`. */
async function clusterNodes(ports: readonly number[]): Promise<ClusterNode[]> {
  for (const p of ports) {
    try {
      const text = String(await redisCommand(p, ['CLUSTER', 'NODES'], { timeoutMs: 500 }));
      return text
        .split('\n')
        .filter(Boolean)
        .map((line) => {
          const f = line.split(' ');
          const flags = f[2] ?? '';
          return {
            port: Number(/:(\d+)@/.exec(f[1] ?? '')?.[1]),
            master: flags.includes('master'),
            failing: flags.includes('fail'),
            slots: f.slice(8).flatMap((r): [number, number][] => {
              const m = /^(\d+)(?:-(\d+))?$/.exec(r);
              return m ? [[Number(m[1]), Number(m[2] ?? m[1])]] : [];
            }),
          };
        });
    } catch {
      // Paused or down: ask the next one.
    }
  }
  return [];
}

/** The port of the healthy master serving `slot`, as the answering nodes see it. */
async function masterOfSlot(ports: readonly number[], slot: number): Promise<number | undefined> {
  const nodes = await clusterNodes(ports);
  return nodes.find((n) => n.master && !n.failing && n.slots.some(([a, b]) => slot >= a && slot <= b))?.port;
}
