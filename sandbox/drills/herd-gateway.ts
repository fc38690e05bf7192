/**
 * The gateway the `thundering-herd` drill restarts: the real `fleetgate` bin, started by the drill
 * on the sandbox's store with a TTL of its own. A herd of 1,000 at the sandbox's short TTL (5 s)
 * would heartbeat 600 times a second, more than a busy 2-core machine serves, and the drill would
 * measure that instead of the re-registration; at 30 s (a third of the production default) it is
 * 100 a second. Each gateway applies its own TTL to the leases it writes, so the fleet's gateways
 * on the same store list the herd as usual.
 */
import { join } from 'node:path';
import { REGISTRY_TYPE_OF } from '../infra/store.js';
import { gatewayEntry } from '../paths.js';
import type { SandboxState } from '../state-file.js';
import { ManagedChild, nodeChildSpec } from '../supervisor.js';

/** A running herd gateway. */
export interface HerdGateway {
  url: string;
  port: number;
  /** SIGTERM (drains like any gateway), then waits for the exit; SIGKILL after 4 s. */
  stop(): Promise<void>;
}

/** Options of {@link startHerdGateway}. */
export interface HerdGatewayOptions {
  state: SandboxState;
  ttlMs: number;
  /** Same port as before on a restart; 0 picks a free one. */
  port: number;
  /** Log file name under the sandbox's log directory. */
  name: string;
}

/**
 * Starts the gateway and waits until it listens and answers `GET /health`.
 * @example const g = await startHerdGateway({ state, ttlMs: 30_000, port: 0, name: 'herd-gateway' });
 */
export async function startHerdGateway(o: HerdGatewayOptions): Promise<HerdGateway> {
  const store: Record<string, string> =
    o.state.backend === 'etcd'
      ? { REGISTRY_ETCD_ENDPOINTS: o.state.storeUrl ?? '' }
      : o.state.backend === 'memory'
        ? {}
        : { REGISTRY_REDIS_ADDR: o.state.storeUrl ?? '' };
  let announced: string | undefined;
  const spec = nodeChildSpec(
    o.name,
    gatewayEntry(),
    [],
    {
      PORT: String(o.port),
      ERUGATEWAYPORT: undefined,
      HOST: '127.0.0.1',
      REGISTRY_TYPE: REGISTRY_TYPE_OF[o.state.backend],
      ...store,
      REGISTRY_TTL: `${o.ttlMs}ms`,
      // Every member registers from 127.0.0.1: lift the per-address registration limit.
      REGISTRY_REGISTER_LIMIT: '5000/5000',
      LOG_LEVEL: 'warn',
    },
    join(o.state.logDir, `${o.name}.log`),
  );
  spec.onStdoutLine = (line) => {
    announced ??= /fleetgate listening on (https?:\/\/\S+)/.exec(line)?.[1];
  };
  const child = new ManagedChild(spec);
  await child.start();
  try {
    await child.waitUntil(async () => announced !== undefined, 30_000, 'listening');
    await child.waitUntil(async () => (await fetch(`${announced}/health`)).status < 500, 30_000, 'healthy');
  } catch (err) {
    await child.stop(1000);
    throw err;
  }
  const url = announced as string;
  return {
    url,
    port: Number(new URL(url).port),
    async stop() {
      await child.stop(4000);
    },
  };
}
