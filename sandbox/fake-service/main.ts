#!/usr/bin/env node
/**
 * A fake service instance, run as a child process by the sandbox supervisor (or by hand): serves
 * its routes, registers with the gateway(s) through `registerService()`, reports over IPC when it
 * is ready, and deregisters on SIGTERM.
 */
import type { AddressInfo } from 'node:net';
import { registerService } from '../../lib/client/index.js';
import { createFakeServer, type FakeServiceState } from './server.js';
import { readFakeServiceSpec } from './spec.js';

/** IPC messages a fake service sends to the supervisor. */
export type FakeServiceMessage =
  | { type: 'listening'; instanceId: string; port: number; url: string }
  | { type: 'ready'; instanceId: string; port: number; url: string; gateway: string }
  | { type: 'registered' | 'reregistered'; instanceId: string; gateway: string; epoch: number | undefined; at: number }
  | { type: 'switched'; from: string; to: string };

function send(message: FakeServiceMessage): void {
  // Started by hand there is no IPC channel; the log line is enough then.
  if (process.send !== undefined && process.connected) process.send(message);
  process.stdout.write(`${JSON.stringify(message)}\n`);
}

async function main(): Promise<void> {
  const spec = readFakeServiceSpec(process.argv.slice(2), process.env);
  const state: FakeServiceState = {
    startedAt: Date.now(),
    requests: 0,
    injectedErrors: 0,
    healthChecks: 0,
    hung: false,
    healthFailing: false,
    gateway: undefined,
    registrations: 0,
    port: 0,
  };
  const server = createFakeServer(spec, state, {
    crash: (mode) => (mode === 'kill' ? process.kill(process.pid, 'SIGKILL') : process.exit(1)),
  });
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(spec.port, spec.host, () => resolve());
  });
  state.port = (server.address() as AddressInfo).port;
  const url = `http://${spec.host}:${state.port}`;
  send({ type: 'listening', instanceId: spec.instanceId, port: state.port, url });

  // The client SDK's failover list: stay with one gateway, move on after two failures in a row.
  const startIndex = Number(process.env.GW_FAKE_GATEWAY_INDEX ?? 0) % spec.gateways.length;
  const registration = registerService({
    gateways: spec.gateways,
    gateway: spec.gateways[startIndex],
    switchAfter: 2,
    service: spec.service,
    instanceId: spec.instanceId,
    url,
    healthEndpoint: '/health',
    routes: spec.routes.map((r) => ({ method: r.method, path: r.path })),
    metadata: { sandbox: true, pid: process.pid },
    requestTimeoutMs: 2000,
    // Short waits: a sandbox gateway comes back within seconds, and drills measure the return.
    backoff: { initialMs: 200, maxMs: 2000 },
  });
  const onRegistered = (type: 'registered' | 'reregistered') => (r: { epoch: number | undefined }) => {
    state.gateway = registration.gateway;
    state.registrations++;
    send({ type, instanceId: spec.instanceId, gateway: registration.gateway, epoch: r.epoch, at: Date.now() });
  };
  registration.on('registered', onRegistered('registered'));
  registration.on('reregistered', onRegistered('reregistered'));
  registration.on('switched', (s) => send({ type: 'switched', ...s }));

  let stopping = false;
  const stop = (): void => {
    if (stopping) return;
    stopping = true;
    // Leave the fleet first so the gateway stops routing here, then stop serving.
    void registration
      .close()
      .catch(() => {})
      .finally(() => {
        server.close(() => process.exit(0));
        server.closeAllConnections();
        setTimeout(() => process.exit(0), 2000).unref();
      });
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);

  await registration.ready;
  send({ type: 'ready', instanceId: spec.instanceId, port: state.port, url, gateway: registration.gateway });
}

main().catch((err: unknown) => {
  process.stderr.write(`fake service: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
