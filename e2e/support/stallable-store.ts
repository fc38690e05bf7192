/**
 * A registry store (Redis, a 3-master Redis Cluster, or etcd) that a test can make stop
 * answering without closing a socket, two ways:
 * - `sigstop`: every store process is SIGSTOPped (SIGCONT resumes it): a paused VM, a GC stall;
 * - `partition`: the store runs in its own network namespace (sandbox/servers/netns.ts) and the
 *   link is cut: packets vanish both ways, as across a real partition.
 * With a namespace the store listens on the namespace's address; without one (no root, no
 * `ip netns`) it runs on loopback and only `sigstop` is possible.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort, releasePorts } from '../../sandbox/servers/free-port.js';
import { ManagedProcess, removeOnExit, removeTempDir } from '../../sandbox/servers/managed-process.js';
import type { NetnsLink } from '../../sandbox/servers/netns.js';
import { parseInfo, redisCommand } from '../../sandbox/servers/redis-protocol.js';
import { waitUntil } from '../../sandbox/servers/wait.js';

const run = promisify(execFile);

/** The backends a stallable store can be. */
export type StallableKind = 'REDIS' | 'REDIS_CLUSTER' | 'ETCD';
/** How a store is made to stop answering. */
export type StallMode = 'sigstop' | 'partition';

/** A running store. */
export interface StallableStore extends AsyncDisposable {
  readonly kind: StallableKind;
  /** `netns` when it runs in its own namespace (both modes), `loopback` otherwise (sigstop only). */
  readonly where: 'netns' | 'loopback';
  /** `REGISTRY_TYPE` and the address variable for a gateway. */
  readonly env: Record<string, string>;
  /** Makes it stop answering (sockets stay open). */
  stall(mode: StallMode): Promise<void>;
  /** Ends the stall. Idempotent. */
  resume(): Promise<void>;
  /**
   * Resolves once a TCP handshake with the store succeeds (polled every few ms, bounded). After
   * a cut link comes back up the kernel may take up to a second (link-watch) before it carries
   * packets again; the gateway cannot see the store before that.
   */
  reachable(timeoutMs?: number): Promise<void>;
  /** Stops every process and deletes the data. Idempotent. */
  stop(): Promise<void>;
}

interface Placement {
  host: string;
  ns: NetnsLink | undefined;
}

/**
 * Starts a store, inside `ns` when given.
 * @example await using store = await startStallableStore('REDIS', await createNetns());
 */
export async function startStallableStore(kind: StallableKind, ns?: NetnsLink): Promise<StallableStore> {
  const where: Placement = { host: ns?.innerAddress ?? '127.0.0.1', ns };
  const started =
    kind === 'ETCD' ? await startEtcd(where) : await startRedisNodes(where, kind === 'REDIS_CLUSTER' ? 3 : 1);
  const procs = started.procs;
  let stalled: StallMode | undefined;
  let stopped: Promise<void> | undefined;
  const resume = async (): Promise<void> => {
    if (stalled === 'sigstop') for (const p of procs) if (p.pid !== undefined) process.kill(p.pid, 'SIGCONT');
    if (stalled === 'partition') await ns?.heal();
    stalled = undefined;
  };
  const stop = (): Promise<void> => {
    stopped ??= (async () => {
      await resume().catch(() => {});
      await Promise.all(procs.map((p) => p.stop(2000)));
      started.cleanup();
    })();
    return stopped;
  };
  return {
    kind,
    where: ns === undefined ? 'loopback' : 'netns',
    env: started.env,
    async stall(mode) {
      if (stalled !== undefined) throw new Error(`already stalled (${stalled})`);
      if (mode === 'partition') {
        if (ns === undefined) throw new Error('a partition needs the store in a network namespace');
        await ns.cut();
      } else {
        for (const p of procs) if (p.pid !== undefined) process.kill(p.pid, 'SIGSTOP');
      }
      stalled = mode;
    },
    resume,
    reachable: (timeoutMs = 5000) =>
      waitUntil(() => canConnect(started.address.host, started.address.port), {
        timeoutMs,
        intervalMs: 5,
        description: `a TCP handshake with ${started.address.host}:${started.address.port}`,
      }).then(() => undefined),
    stop,
    [Symbol.asyncDispose]: stop,
  };
}

/** Whether a TCP handshake with host:port completes within 100 ms. */
function canConnect(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const done = (ok: boolean): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve(ok);
    };
    const timer = setTimeout(() => done(false), 100);
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

interface Started {
  procs: ManagedProcess[];
  /** One address a client connects to. */
  address: { host: string; port: number };
  env: Record<string, string>;
  cleanup(): void;
}

function spawnIn(where: Placement, name: string, command: string, args: string[], env?: NodeJS.ProcessEnv) {
  const wrapped = where.ns === undefined ? { command, args } : where.ns.wrap(command, args);
  return new ManagedProcess({ name, ...wrapped, ...(env === undefined ? {} : { env }) });
}

/** Ports: fixed inside a namespace (it is ours alone), free loopback ports otherwise. */
async function portsFor(where: Placement, count: number, first: number, alsoFree: number[] = []): Promise<number[]> {
  if (where.ns !== undefined) return Array.from({ length: count }, (_, i) => first + i);
  const ports: number[] = [];
  for (let i = 0; i < count; i++) ports.push(await freePort({ alsoFree }));
  return ports;
}

async function startRedisNodes(where: Placement, count: 1 | 3): Promise<Started> {
  const cluster = count > 1;
  // Cluster bus ports are port + 10000; both below 32768.
  const ports = await portsFor(where, count, cluster ? 17000 : 6379, cluster ? [10000] : []);
  const dirs: string[] = [];
  const procs: ManagedProcess[] = [];
  const cleanup = (): void => {
    for (const d of dirs) removeTempDir(d);
    if (where.ns === undefined) releasePorts(...ports, ...ports.map((p) => p + 10000));
  };
  try {
    for (const port of ports) {
      const dir = mkdtempSync(join(tmpdir(), `fleetgate-stall-redis-${port}-`));
      removeOnExit(dir);
      dirs.push(dir);
      const args = ['--port', String(port), '--bind', where.host, '--save', '', '--appendonly', 'no', '--dir', dir];
      // Redis 7 refuses non-loopback clients of a passwordless server in protected mode.
      args.push('--protected-mode', 'no');
      if (cluster) args.push('--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf');
      // Long enough that nodes stopped together do not flag each other failed when resumed.
      if (cluster) args.push('--cluster-node-timeout', '5000');
      const proc = spawnIn(where, `redis-server:${where.host}:${port}`, 'redis-server', args);
      procs.push(proc);
      await waitUntil(
        async () => (await redisCommand(port, ['PING'], { host: where.host, timeoutMs: 500 })) === 'PONG',
        {
          description: `redis-server on ${where.host}:${port} to answer PING`,
          fatal: () => (proc.running ? undefined : `exited early:\n${proc.output()}`),
        },
      );
    }
    if (cluster) {
      await run('redis-cli', ['--cluster', 'create', ...ports.map((p) => `${where.host}:${p}`), '--cluster-yes'], {
        timeout: 30_000,
      });
      await waitUntil(
        async () => {
          for (const port of ports) {
            const info = parseInfo(await redisCommand(port, ['CLUSTER', 'INFO'], { host: where.host }));
            if (info.get('cluster_state') !== 'ok' || info.get('cluster_slots_ok') !== '16384') return false;
          }
          return true;
        },
        { timeoutMs: 20_000, description: 'every cluster node to report cluster_state:ok' },
      );
    }
  } catch (err) {
    await Promise.all(procs.map((p) => p.kill()));
    cleanup();
    throw err;
  }
  const addrs = ports.map((p) => `redis://${where.host}:${p}`).join(',');
  return {
    procs,
    address: { host: where.host, port: ports[0]! },
    env: { REGISTRY_TYPE: cluster ? 'REDIS_CLUSTER' : 'REDIS', REGISTRY_REDIS_ADDR: addrs },
    cleanup,
  };
}

/** etcd reads every `ETCD_*` variable as a flag. */
function etcdEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('ETCD_')) env[k] = v;
  return env;
}

async function startEtcd(where: Placement): Promise<Started> {
  const [clientPort, peerPort] = await portsFor(where, 2, 2379);
  const dir = mkdtempSync(join(tmpdir(), `fleetgate-stall-etcd-${clientPort}-`));
  removeOnExit(dir);
  const url = `http://${where.host}:${clientPort}`;
  const peer = `http://127.0.0.1:${peerPort}`;
  const args = [
    ...['--name', 'stall', '--data-dir', join(dir, 'data')],
    ...['--listen-client-urls', url, '--advertise-client-urls', url],
    ...['--listen-peer-urls', peer, '--initial-advertise-peer-urls', peer, '--initial-cluster', `stall=${peer}`],
    ...['--log-level', 'warn'],
  ];
  const proc = spawnIn(where, `etcd:${where.host}:${clientPort}`, 'etcd', args, etcdEnv());
  const cleanup = (): void => {
    removeTempDir(dir);
    if (where.ns === undefined) releasePorts(clientPort!, peerPort!);
  };
  try {
    await waitUntil(
      async () => {
        const res = await fetch(`${url}/health`, { signal: AbortSignal.timeout(1000) });
        return ((await res.json()) as { health?: string }).health === 'true';
      },
      {
        timeoutMs: 15_000,
        description: `etcd on ${url} to report healthy`,
        fatal: () => (proc.running ? undefined : `exited early:\n${proc.output()}`),
      },
    );
  } catch (err) {
    await proc.kill();
    cleanup();
    throw err;
  }
  return {
    procs: [proc],
    address: { host: where.host, port: clientPort! },
    env: { REGISTRY_TYPE: 'ETCD', REGISTRY_ETCD_ENDPOINTS: url },
    cleanup,
  };
}
