/**
 * How the two kinds of fleet children are launched and known to be ready: a gateway (env from
 * the fleet file and the store; ready once it printed its URL and answers `GET /health`) and a
 * fake service instance (spec as JSON; ready once it reports its first registration over IPC).
 */
import { join } from 'node:path';
import type { FakeServiceMessage } from './fake-service/main.js';
import type { FakeServiceSpec } from './fake-service/spec.js';
import type { Fleet, FleetService } from './fleet-file.js';
import type { RunningStore } from './infra/store.js';
import { FAKE_SERVICE_ENTRY, gatewayEntry } from './paths.js';
import { ManagedChild, nodeChildSpec } from './supervisor.js';

/** How long a child may take to be ready. */
export const READY_TIMEOUT_MS = 30_000;

/** A started, ready child. */
export interface LaunchedChild {
  child: ManagedChild;
  url: string;
  port: number;
}

/** Options for {@link launchGateway}. */
export interface GatewayLaunch {
  name: string;
  /** The port to listen on; `undefined` lets the OS pick (first start), a restart reuses the old one. */
  port: number | undefined;
  fleet: Fleet;
  store: RunningStore | undefined;
  logDir: string;
  /** Called with the child before it starts, so exit listeners are in place from the first moment. */
  attach: (child: ManagedChild) => void;
}

/** Starts a gateway process and waits until it listens and answers `GET /health`. */
export async function launchGateway(o: GatewayLaunch): Promise<LaunchedChild> {
  const f = o.fleet.gateway;
  let announced: string | undefined;
  const spec = nodeChildSpec(
    o.name,
    gatewayEntry(),
    [],
    {
      PORT: String(o.port ?? 0),
      ERUGATEWAYPORT: undefined,
      HOST: '127.0.0.1',
      REGISTRY_TTL: `${f.ttlMs}ms`,
      HEALTH_CHECK_INTERVAL: `${f.healthIntervalMs}ms`,
      HEALTH_CHECK_TIMEOUT: `${f.healthTimeoutMs}ms`,
      HEALTH_MAX_FAILURES: String(f.healthMaxFailures),
      HEALTH_DOWN_INTERVAL: `${f.healthIntervalMs * 2}ms`,
      LOG_LEVEL: 'info',
      ...(o.store?.gatewayEnv ?? { REGISTRY_TYPE: 'INMEMORY' }),
      ...f.env,
    },
    join(o.logDir, `${o.name}.log`),
  );
  // With PORT=0 the bin's own announcement is the only reliable source of the port.
  spec.onStdoutLine = (line) => {
    const m = /fleetgate listening on (https?:\/\/\S+)/.exec(line);
    if (m) announced = m[1];
  };
  const child = new ManagedChild(spec);
  o.attach(child);
  await child.start();
  await child.waitUntil(async () => announced !== undefined, READY_TIMEOUT_MS, 'listening');
  const url = announced as string;
  await child.waitUntil(async () => (await fetch(`${url}/health`)).status < 500, READY_TIMEOUT_MS, 'healthy');
  return { child, url, port: Number(new URL(url).port) };
}

/** Options for {@link launchInstance}. */
export interface InstanceLaunch {
  name: string;
  /** 1-based; spreads instances over the gateways. */
  index: number;
  service: FleetService;
  gateways: string[];
  logDir: string;
  /** Called with the child before it starts (exit and IPC listeners). */
  attach: (child: ManagedChild) => void;
}

/** Starts a fake service instance on a free port and waits for its first registration. */
export async function launchInstance(o: InstanceLaunch): Promise<LaunchedChild> {
  const spec: FakeServiceSpec = {
    service: o.service.name,
    instanceId: o.name,
    port: 0,
    host: '127.0.0.1',
    gateways: o.gateways,
    routes: o.service.routes,
    latency: o.service.latency,
    errorRate: o.service.errorRate,
    payloadBytes: o.service.payloadBytes,
  };
  const child = new ManagedChild(
    nodeChildSpec(
      o.name,
      FAKE_SERVICE_ENTRY,
      [],
      {
        GW_FAKE_SPEC: JSON.stringify(spec),
        GW_FAKE_GATEWAY_INDEX: String((o.index - 1) % Math.max(1, o.gateways.length)),
      },
      join(o.logDir, `${o.name}.log`),
    ),
  );
  o.attach(child);
  await child.start();
  const ready = await child.waitForMessage((m) => {
    const msg = m as FakeServiceMessage;
    return msg.type === 'ready' ? msg : undefined;
  }, READY_TIMEOUT_MS);
  return { child, url: ready.url, port: ready.port };
}
