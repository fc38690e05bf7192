/**
 * Self-healing registration against the REAL gateway: a service registered through
 * `registerService()` comes back by itself after the gateway is killed and restarted with an
 * empty in-memory store, within one heartbeat interval of the new gateway being ready, and
 * heartbeats with the instance token the new gateway issued.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import { registerService, type ServiceRegistration } from '../lib/client/index.js';
import { freePort } from '../sandbox/servers/free-port.js';
import { type GatewayProcess, startGateway as startBin } from './support/gateway-process.js';

/** Allowance for the HTTP round trips themselves on a busy 2-core machine. */
const ROUND_TRIP_SLACK_MS = 300;

async function listInstances(base: string): Promise<Map<string, { service: string; epoch: number }>> {
  const res = await fetch(`${base}/internal/services`, { signal: AbortSignal.timeout(2000) });
  assert.equal(res.status, 200);
  const body = (await res.json()) as {
    services: Record<string, { instances: { instance_id: string; epoch: number }[] }>;
  };
  const out = new Map<string, { service: string; epoch: number }>();
  for (const [service, { instances }] of Object.entries(body.services)) {
    for (const i of instances) out.set(i.instance_id, { service, epoch: i.epoch });
  }
  return out;
}

/** Polls until `cond()` resolves true; fails with `what` after `deadline` (a `Date.now()` value). */
async function until(cond: () => Promise<boolean> | boolean, what: string, deadline: number): Promise<void> {
  for (;;) {
    if (
      await Promise.resolve()
        .then(cond)
        .catch(() => false)
    )
      return;
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** The bin on a fixed port (restarts must come back on the same address), with an in-memory store. */
async function startGateway(port: number, children: GatewayProcess[]): Promise<GatewayProcess & { readyAt: number }> {
  const gateway = await startBin({ PORT: String(port), REGISTRY_TTL: '3s', REGISTRY_TYPE: 'INMEMORY' });
  children.push(gateway);
  return gateway as GatewayProcess & { readyAt: number };
}

describe('registerService against the real gateway', () => {
  it('re-registers by itself, with the same instance id, after the gateway restarts empty', async (t) => {
    const children: GatewayProcess[] = [];
    // The service itself, so the gateway's health checks find a live instance.
    const service: Server = createServer((_req, res) => res.writeHead(200).end('ok'));
    await new Promise<void>((r) => service.listen(0, '127.0.0.1', () => r()));
    const serviceUrl = `http://127.0.0.1:${(service.address() as AddressInfo).port}`;
    let handle: ServiceRegistration | undefined;
    try {
      const port = await freePort();
      const base = `http://127.0.0.1:${port}`;
      const first = await startGateway(port, children);
      t.diagnostic(`gateway startup ${first.startupMs} ms`);

      handle = registerService({
        gateway: base,
        service: 'e2e-client',
        url: serviceUrl,
        healthEndpoint: '/health',
        routes: [{ method: 'GET', path: '/e2e-client/**' }],
      });
      const reregistered: { instanceId: string; epoch: number | undefined; at: number }[] = [];
      handle.on('reregistered', (r) => reregistered.push({ instanceId: r.instanceId, epoch: r.epoch, at: Date.now() }));
      const heartbeatFailures: string[] = [];
      handle.on('heartbeat-failed', (e) => heartbeatFailures.push(e.code));
      let beats = 0;
      handle.on('heartbeat', () => beats++);
      const reg = await handle.ready;
      assert.equal(reg.heartbeatIntervalMs, 1000, 'REGISTRY_TTL=3s: the gateway asks for a heartbeat every second');
      const id = reg.instanceId;
      assert.equal((await listInstances(base)).get(id)?.service, 'e2e-client');
      await until(() => beats >= 1, 'a heartbeat accepted by the real gateway', Date.now() + 5000);

      // Crash: the in-memory registry is gone with the process.
      await first.kill();
      const second = await startGateway(port, children);
      const absentAtReady = !(await listInstances(base)).has(id);
      const deadline = second.readyAt + reg.heartbeatIntervalMs * 1.1 + ROUND_TRIP_SLACK_MS;
      await until(
        async () => reregistered.length > 0 && (await listInstances(base)).has(id),
        `re-registration within ${reg.heartbeatIntervalMs * 1.1 + ROUND_TRIP_SLACK_MS} ms of the gateway being ready`,
        deadline,
      );
      const seenAt = Date.now();
      const took = reregistered[0]!.at - second.readyAt;
      const report =
        `restarted gateway startup ${second.startupMs} ms; gateway-ready → 'reregistered' ${took} ms, ` +
        `→ visible in GET /internal/services ${seenAt - second.readyAt} ms ` +
        `(interval ${reg.heartbeatIntervalMs} ms, deadline ${reg.heartbeatIntervalMs * 1.1 + ROUND_TRIP_SLACK_MS} ms; ` +
        `instance ${absentAtReady ? 'absent' : 'already back'} at the first GET; ` +
        `${heartbeatFailures.length} failed heartbeats while it was down)`;
      t.diagnostic(report);
      console.log(`[e2e client-reregister] ${report}`);

      assert.equal(reregistered.length, 1);
      assert.equal(reregistered[0]!.instanceId, id, 'same instance id');
      assert.equal(handle.instanceId, id);
      const after = (await listInstances(base)).get(id);
      assert.equal(after?.service, 'e2e-client');
      // The restarted gateway issued a new instance token: the client's heartbeats carry it, and
      // a heartbeat without it is refused.
      const beatsBefore = beats;
      await until(
        () => beats > beatsBefore,
        'a heartbeat with the new token',
        Date.now() + 3 * reg.heartbeatIntervalMs,
      );
      const tokenless = await fetch(`${base}/internal/services/e2e-client/instances/${id}/heartbeat`, {
        method: 'PUT',
        signal: AbortSignal.timeout(2000),
      });
      assert.equal(tokenless.status, 403, 'a heartbeat without the instance token is refused');

      // A longer outage: the lease lapses while the gateway is down, so the client stops
      // heartbeating and registers with backoff (capped at the interval once registered).
      let registrationFailures = 0;
      handle.on('registration-failed', () => registrationFailures++);
      await second.kill();
      await until(
        () => registrationFailures > 0,
        'the switch to registering after the TTL',
        Date.now() + reg.ttlMs + 2 * reg.heartbeatIntervalMs + 2000,
      );
      const third = await startGateway(port, children);
      const longDeadline = third.readyAt + reg.heartbeatIntervalMs + ROUND_TRIP_SLACK_MS;
      await until(
        async () => reregistered.length === 2 && (await listInstances(base)).has(id),
        'registration after a lapsed lease',
        longDeadline,
      );
      const longReport =
        `after an outage longer than the TTL: gateway-ready → 'reregistered' ${reregistered[1]!.at - third.readyAt} ms ` +
        `(${registrationFailures} failed registration attempts while it was down)`;
      t.diagnostic(longReport);
      console.log(`[e2e client-reregister] ${longReport}`);
      assert.equal(reregistered[1]!.instanceId, id, 'same instance id');

      await handle.close();
      assert.equal((await listInstances(base)).has(id), false, 'close() deregistered the instance');
    } finally {
      await handle?.close();
      await Promise.all(children.map((c) => c.kill()));
      service.closeAllConnections();
      await new Promise<void>((r) => service.close(() => r()));
    }
  });
});
