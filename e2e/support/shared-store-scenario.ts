/**
 * The shared-store scenario, run once per store (e2e/shared-store-redis.test.ts,
 * e2e/shared-store-etcd.test.ts): two `fleetgate` processes, A and B, on one Redis or etcd, with
 * real upstream services registered through `registerService()`.
 *
 * 1. A registration through one gateway is listed and routed by the other (propagation printed).
 * 2. A crashed service (SIGKILL, no deregistration) leaves both gateways within TTL + 1 s.
 * 3. A store outage under load: both gateways keep routing from their last-known table, report
 *    `degraded`, answer heartbeats 503 + Retry-After; after the restart they resync, report
 *    `healthy`, and every registration comes back.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { waitUntil } from '../../sandbox/servers/wait.js';
import { startFleetService } from './fleet-service.js';
import { GatewayProbe } from './gateway-probe.js';
import { type GatewayProcess, startGateway } from './gateway-process.js';
import { type RunningFleet, runOutageDrill, type SharedStore } from './outage-drill.js';

export type { SharedStore } from './outage-drill.js';

import { startServiceProcess } from './service-process.js';

/** One store's run of the scenario. */
export interface SharedStoreScenario {
  /** e.g. `redis`, used in test names and printed numbers. */
  name: string;
  /** From the harness: a reason to skip on a laptop without the server (CI throws instead). */
  skip: string | undefined;
  start(): Promise<SharedStore>;
}

/** `REGISTRY_TTL`: short, so expiry is observable (2 s is also etcd's minimum lease). */
export const TTL_MS = 2000;
/**
 * Slack over "TTL + 1 s" for the observer itself: a 20 ms poll period plus two `GET
 * /internal/services` round trips on a busy 2-core machine running two gateways and a store.
 */
export const EXPIRY_SLACK_MS = 500;

const GATEWAY_ENV = { REGISTRY_TTL: `${TTL_MS}ms`, HEALTH_CHECK_INTERVAL: '500ms', HEALTH_CHECK_TIMEOUT: '1s' };

/** Registers the scenario's tests for one store. */
export function describeSharedStoreScenario(s: SharedStoreScenario): void {
  const tag = `[e2e shared-store ${s.name}]`;
  const report = (t: { diagnostic(m: string): void }, line: string): void => {
    t.diagnostic(line);
    console.log(`${tag} ${line}`);
  };

  describe(`two fleetgate processes sharing ${s.name}`, { skip: s.skip }, () => {
    let store: SharedStore | undefined;
    let a: GatewayProcess & { url: string };
    let b: GatewayProcess & { url: string };
    let probe: GatewayProbe;
    let gatewayEnv: Record<string, string> = {};
    const fleet: RunningFleet = { services: [], children: [] };

    before(async () => {
      probe = new GatewayProbe();
      store = await s.start();
      gatewayEnv = { ...store.env, ...GATEWAY_ENV };
      [a, b] = await Promise.all([
        startGateway(gatewayEnv, { name: 'gateway A' }),
        startGateway(gatewayEnv, { name: 'gateway B' }),
      ]);
    });

    after(async () => {
      await Promise.all(fleet.services.map((svc) => svc.close()));
      await Promise.all(fleet.children.map((c) => c.kill()));
      await Promise.all([a?.stop(), b?.stop()]);
      await store?.stop();
      await probe?.close();
    });

    it('a registration through one gateway is listed and routed by the other', async (t) => {
      const pairs: [GatewayProcess & { url: string }, GatewayProcess & { url: string }][] = [
        [a, b],
        [a, b],
        [a, b],
        [b, a],
      ];
      const lines: string[] = [];
      for (const [i, [via, peer]] of pairs.entries()) {
        const service = `prop${i}`;
        const svc = await startFleetService({ gateway: via.url, service, label: `${service}-1` });
        fleet.services.push(svc);
        const ackAt = Date.now();
        let listedAt: number | undefined;
        let routedAt: number | undefined;
        let reply: { upstream: string; path: string } | undefined;
        await waitUntil(
          async () => {
            const [listed, routed] = await Promise.all([
              listedAt === undefined ? probe.instances(peer.url) : undefined,
              routedAt === undefined ? probe.proxied(peer.url, `/api/${service}/hello?n=${i}`) : undefined,
            ]);
            if (listed?.has(svc.instanceId)) listedAt = Date.now();
            if (routed !== undefined) {
              routedAt = Date.now();
              reply = routed;
            }
            return listedAt !== undefined && routedAt !== undefined;
          },
          {
            timeoutMs: 5000,
            intervalMs: 5,
            description: `${service} registered via ${via.name} to reach ${peer.name}`,
          },
        );
        assert.deepEqual(reply, { upstream: `${service}-1`, method: 'GET', path: `/api/${service}/hello?n=${i}` });
        lines.push(
          `${via.name.slice(-1)}→${peer.name.slice(-1)}: listed +${listedAt! - ackAt} ms, routed +${routedAt! - ackAt} ms`,
        );
      }
      report(t, `propagation after the registering gateway's 200 (poll every 5 ms): ${lines.join('; ')}`);
    });

    it(`a crashed service leaves both gateways within TTL + 1 s (+${EXPIRY_SLACK_MS} ms observer slack)`, async (t) => {
      const svc = await startServiceProcess({
        gateway: a.url,
        service: 'crashy',
        label: 'crashy-1',
        routes: [{ method: 'GET', path: '/api/crashy/**' }],
      });
      fleet.children.push(svc);
      const id = svc.ready.instanceId;
      await waitUntil(
        async () =>
          (await probe.instances(a.url)).has(id) &&
          (await probe.proxied(b.url, '/api/crashy/x'))?.upstream === 'crashy-1',
        { timeoutMs: 5000, intervalMs: 20, description: 'the crashy service to be routed by B' },
      );
      // The lease actually granted: etcd may round the requested TTL up (whole seconds, a minimum).
      const listed = (await probe.instances(a.url)).get(id)!;
      const grantedMs = Date.parse(listed.expires_at) - Date.parse(listed.last_heartbeat);
      assert.ok(grantedMs >= TTL_MS, `granted lease ${grantedMs} ms < requested ${TTL_MS} ms`);
      const bound = grantedMs + 1000 + EXPIRY_SLACK_MS;

      const killAt = Date.now();
      await svc.kill();
      let leaseEnd = Date.parse(listed.expires_at);
      const goneAt = new Map<string, number>();
      await waitUntil(
        async () => {
          await Promise.all(
            [a, b].map(async (gw) => {
              if (goneAt.has(gw.name)) return;
              const inst = (await probe.instances(gw.url)).get(id);
              // A heartbeat in flight at the kill may still have renewed the lease: track the latest.
              if (inst === undefined) goneAt.set(gw.name, Date.now());
              else leaseEnd = Math.max(leaseEnd, Date.parse(inst.expires_at));
            }),
          );
          return goneAt.size === 2;
        },
        { timeoutMs: bound + 5000, intervalMs: 20, description: 'the crashed instance to leave both gateways' },
      );
      // The sweep then evicts it and the route leaves the route table: /api/crashy/** matches
      // nothing. Waited for, so later tests start from a cache without it (an expired instance
      // not yet swept would be frozen back into routing by a store outage: self-preservation).
      const unroutedAt = new Map<string, number>();
      await waitUntil(
        async () => {
          await Promise.all(
            [a, b].map(async (gw) => {
              if (!unroutedAt.has(gw.name) && (await probe.explain(gw.url, '/api/crashy/x')).match === null)
                unroutedAt.set(gw.name, Date.now());
            }),
          );
          return unroutedAt.size === 2;
        },
        { timeoutMs: 5000, intervalMs: 20, description: 'the crashed instance to be swept from both route tables' },
      );
      const since = (m: Map<string, number>) => [...m].map(([name, at]) => `${name} ${at - killAt} ms`).join(', ');
      report(
        t,
        `expiry: granted lease ${grantedMs} ms; SIGKILL → gone from GET /internal/services: ${since(goneAt)} ` +
          `(last lease ended ${leaseEnd - killAt} ms after the kill; bound ${bound} ms); ` +
          `route swept from the route table: ${since(unroutedAt)}`,
      );
      for (const [name, at] of goneAt) {
        assert.ok(at - killAt <= bound, `${name}: gone ${at - killAt} ms after SIGKILL, bound ${bound} ms`);
      }
    });

    it('a store outage under load: last-known routing, degraded, 503 heartbeats, then full recovery', async (t) => {
      assert.ok(store !== undefined);
      await runOutageDrill({
        store,
        gateways: [a, b],
        gatewayEnv,
        probe,
        fleet,
        report: (line) => report(t, line),
      });
    });
  });
}
