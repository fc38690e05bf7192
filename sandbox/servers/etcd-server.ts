/**
 * A throwaway single-member etcd: `quay.io/coreos/etcd` through testcontainers when a container
 * runtime answers, else the local `etcd` binary (Debian etcd-server 3.4) on free loopback ports
 * with a temp data directory. Ready when `GET /health` says `{"health":"true"}`.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chooseProvider, containerRuntime, containerStopper } from './container-runtime.js';
import { freePort, releasePorts } from './free-port.js';
import { ManagedProcess, removeOnExit, removeTempDir } from './managed-process.js';
import type { HarnessProvider, TestServer } from './test-server.js';
import { waitUntil } from './wait.js';

/** The etcd image the container path runs. */
export const ETCD_IMAGE = 'quay.io/coreos/etcd:v3.5.17';

/** A running etcd. */
export interface EtcdServer extends TestServer {
  /** `http://127.0.0.1:<port>`: the client URL. */
  readonly url: string;
  /** `[url]`, the shape `new Etcd3({ hosts })` and `REGISTRY_ETCD_ENDPOINTS` take. */
  readonly endpoints: string[];
  readonly port: number;
}

/** Options for {@link startEtcd}. */
export interface StartEtcdOptions {
  /** Forces a provider. @default chosen by {@link chooseProvider} */
  provider?: HarnessProvider;
}

/** `undefined` when {@link startEtcd} can run here, else why not (throws in CI instead). */
export async function etcdSkipReason(): Promise<string | undefined> {
  return (await chooseProvider('etcd', ['etcd'])).skip;
}

/**
 * Starts etcd and waits until it reports healthy.
 * @example
 * await using etcd = await startEtcd();
 * const client = new Etcd3({ hosts: etcd.endpoints });
 */
export async function startEtcd(options: StartEtcdOptions = {}): Promise<EtcdServer> {
  const provider = options.provider ?? (await chooseProvider('etcd', ['etcd'])).provider;
  if (provider === undefined) throw new Error(`cannot start etcd: ${await etcdSkipReason()}`);
  return provider === 'testcontainers' ? startEtcdContainer() : startLocalEtcd();
}

/** etcd reads every `ETCD_*` variable as a flag; a stray one (e.g. from CI) would change or break it. */
function cleanEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('ETCD_')) env[k] = v;
  return env;
}

async function healthy(url: string): Promise<boolean> {
  const res = await fetch(`${url}/health`, { signal: AbortSignal.timeout(1000) });
  const body = (await res.json()) as { health?: string };
  return body.health === 'true';
}

async function startLocalEtcd(): Promise<EtcdServer> {
  for (let attempt = 1; ; attempt++) {
    const clientPort = await freePort();
    const peerPort = await freePort();
    const dir = mkdtempSync(join(tmpdir(), `fleetgate-etcd-${clientPort}-`));
    removeOnExit(dir);
    const url = `http://127.0.0.1:${clientPort}`;
    const peer = `http://127.0.0.1:${peerPort}`;
    const args = [
      '--name',
      'fleetgate',
      '--data-dir',
      join(dir, 'data'),
      '--listen-client-urls',
      url,
      '--advertise-client-urls',
      url,
      '--listen-peer-urls',
      peer,
      '--initial-advertise-peer-urls',
      peer,
      '--initial-cluster',
      `fleetgate=${peer}`,
      '--log-level',
      'warn',
    ];
    let proc: ManagedProcess | undefined;
    const start = async (): Promise<void> => {
      const p = new ManagedProcess({ name: `etcd:${clientPort}`, command: 'etcd', args, env: cleanEnv() });
      proc = p;
      await waitUntil(() => healthy(url), {
        timeoutMs: 15_000,
        description: `etcd on port ${clientPort} to report healthy`,
        fatal: () => (p.running ? undefined : `exited early:\n${p.output()}`),
      });
    };
    const cleanup = (): void => {
      removeTempDir(dir);
      releasePorts(clientPort, peerPort);
    };
    try {
      await start();
    } catch (err) {
      const output = proc?.output() ?? '';
      await proc?.kill();
      cleanup();
      if (attempt >= 3 || !output.includes('address already in use')) throw err;
      continue;
    }
    let stopped = false;
    const stop = async (): Promise<void> => {
      if (stopped) return;
      stopped = true;
      await proc?.stop();
      cleanup();
    };
    return {
      provider: 'local',
      url,
      endpoints: [url],
      port: clientPort,
      stop,
      kill: async () => proc?.kill(),
      async restart() {
        await proc?.kill();
        await start();
      },
      [Symbol.asyncDispose]: stop,
    };
  }
}

async function startEtcdContainer(): Promise<EtcdServer> {
  const { GenericContainer, Wait } = await import('testcontainers');
  const runtime = await containerRuntime();
  if (!runtime.available) throw new Error(`no container runtime: ${runtime.reason}`);
  // A fixed host port keeps the address across restart().
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const container = await new GenericContainer(ETCD_IMAGE)
    .withExposedPorts({ container: 2379, host: port })
    .withCommand([
      'etcd',
      '--name',
      'fleetgate',
      '--data-dir',
      '/etcd-data',
      '--listen-client-urls',
      'http://0.0.0.0:2379',
      '--advertise-client-urls',
      url,
    ])
    .withWaitStrategy(Wait.forHttp('/health', 2379).forResponsePredicate((body) => body.includes('"true"')))
    .start();
  // 'localhost' may resolve to ::1 first; the published port is certainly on IPv4 loopback.
  const hostUrl = `http://${container.getHost() === 'localhost' ? '127.0.0.1' : container.getHost()}:${port}`;
  const stop = containerStopper(container, port);
  return {
    provider: 'testcontainers',
    url: hostUrl,
    endpoints: [hostUrl],
    port,
    stop,
    async kill() {
      await runtime.client.container.getById(container.getId()).kill({ signal: 'SIGKILL' });
    },
    async restart() {
      await container.restart({ timeout: 0 });
      await waitUntil(() => healthy(hostUrl), { timeoutMs: 15_000, description: 'etcd container to report healthy' });
    },
    [Symbol.asyncDispose]: stop,
  };
}
