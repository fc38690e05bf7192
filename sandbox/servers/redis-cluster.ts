/**
 * A throwaway Redis Cluster from local `redis-server` binaries: N masters, optionally one
 * replica each, created with `redis-cli --cluster create` and awaited until every node reports
 * `cluster_state:ok` with all 16384 slots served (`--cluster create` returns before that).
 *
 * Always local: cluster nodes announce their own addresses to clients (MOVED replies, CLUSTER
 * SLOTS), and inside containers those are container addresses a host client cannot reach.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { chooseProvider } from './container-runtime.js';
import { freePort, releasePorts } from './free-port.js';
import { parseInfo, redisCommand } from './redis-protocol.js';
import { LocalRedisNode } from './redis-server.js';
import type { TestServer } from './test-server.js';
import { waitUntil } from './wait.js';

const run = promisify(execFile);

/** Redis Cluster's bus port is the client port + 10000; both must stay below 32768. */
const BUS_OFFSET = 10000;

/** One node of a {@link RedisCluster}. */
export interface RedisClusterNode {
  readonly port: number;
  /** `redis://127.0.0.1:<port>` */
  readonly url: string;
  /** True while its process runs. */
  readonly running: boolean;
  /** SIGKILL this node only (a primary crash). */
  kill(): Promise<void>;
  /** Starts this node again with its data dir and `nodes.conf`; it rejoins the cluster. */
  restart(): Promise<void>;
}

/** A running cluster. */
export interface RedisCluster extends TestServer {
  /** Every node's URL: hand these to `new Cluster(...)` or `REGISTRY_REDIS_ADDR`. */
  readonly addrs: string[];
  readonly nodes: readonly RedisClusterNode[];
  /** The live master currently serving the slot of `key`. */
  masterOf(key: string): Promise<RedisClusterNode>;
  /** Waits until every running node reports `cluster_state:ok` and all 16384 slots served. */
  waitHealthy(timeoutMs?: number): Promise<void>;
  /** Waits until every live master's replicas have caught up with its replication offset. */
  waitForReplication(timeoutMs?: number): Promise<void>;
}

/** Options for {@link startRedisCluster}. */
export interface StartRedisClusterOptions {
  /** Number of masters (at least 3). @default 3 */
  nodes?: number;
  /** Replicas per master. @default 0 */
  replicas?: 0 | 1;
}

/** `undefined` when {@link startRedisCluster} can run here, else why not (throws in CI instead). */
export async function redisClusterSkipReason(): Promise<string | undefined> {
  return (await chooseProvider('redis-server (cluster)', ['redis-server', 'redis-cli'], { containers: false })).skip;
}

/**
 * Starts the cluster and waits until it serves every slot (and replicas are linked).
 * @example
 * await using cluster = await startRedisCluster({ nodes: 3, replicas: 1 });
 * const client = new Cluster(cluster.addrs.map((u) => new URL(u)).map((u) => ({ host: u.hostname, port: +u.port })));
 */
export async function startRedisCluster(options: StartRedisClusterOptions = {}): Promise<RedisCluster> {
  const masters = options.nodes ?? 3;
  const replicas = options.replicas ?? 0;
  if (masters < 3) throw new Error('a Redis Cluster needs at least 3 masters');
  const skip = await redisClusterSkipReason();
  if (skip !== undefined) throw new Error(`cannot start a redis cluster: ${skip}`);

  const ports: number[] = [];
  for (let i = 0; i < masters * (1 + replicas); i++) ports.push(await freePort({ alsoFree: [BUS_OFFSET] }));
  const release = (): void => releasePorts(...ports, ...ports.map((p) => p + BUS_OFFSET));
  const args = [
    '--cluster-enabled',
    'yes',
    '--cluster-config-file',
    'nodes.conf',
    '--cluster-node-timeout',
    '1000',
    // Failover must always be allowed in tests, however long the replica was cut off.
    '--cluster-replica-validity-factor',
    '0',
  ];
  const locals = ports.map((p) => new LocalRedisNode(p, args));
  const stopAll = async (): Promise<void> => {
    await Promise.all(locals.map((n) => n.stop()));
    for (const n of locals) n.removeData();
    release();
  };
  try {
    await Promise.all(locals.map((n) => n.start()));
    await run(
      'redis-cli',
      [
        '--cluster',
        'create',
        ...ports.map((p) => `127.0.0.1:${p}`),
        '--cluster-replicas',
        String(replicas),
        '--cluster-yes',
      ],
      { timeout: 30_000 },
    );
    await waitClusterHealthy(locals, masters * (1 + replicas), 20_000);
    if (replicas > 0) await waitReplicasLinked(locals, 20_000);
  } catch (err) {
    await stopAll();
    throw err;
  }

  const nodes: RedisClusterNode[] = locals.map((n) => ({
    port: n.port,
    url: `redis://127.0.0.1:${n.port}`,
    get running() {
      return n.running;
    },
    kill: () => n.kill(),
    async restart() {
      await n.kill();
      await n.start();
    },
  }));
  let stopped = false;
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    await stopAll();
  };
  return {
    provider: 'local',
    addrs: nodes.map((n) => n.url),
    nodes,
    stop,
    async kill() {
      await Promise.all(locals.map((n) => n.kill()));
    },
    async restart() {
      await Promise.all(locals.map((n) => n.kill()));
      await Promise.all(locals.map((n) => n.start()));
      await waitClusterHealthy(locals, locals.length, 20_000);
    },
    async masterOf(key) {
      const port = await masterPortOf(locals, key);
      const node = nodes.find((n) => n.port === port);
      if (node === undefined) throw new Error(`slot of ${key} served by unknown port ${port}`);
      return node;
    },
    waitHealthy: (timeoutMs = 20_000) => waitClusterHealthy(locals, undefined, timeoutMs),
    waitForReplication: (timeoutMs = 10_000) => waitReplicationCaughtUp(locals, timeoutMs),
    [Symbol.asyncDispose]: stop,
  };
}

async function waitClusterHealthy(nodes: LocalRedisNode[], knownNodes: number | undefined, timeoutMs: number) {
  await waitUntil(
    async () => {
      for (const n of nodes.filter((x) => x.running)) {
        const info = parseInfo(await redisCommand(n.port, ['CLUSTER', 'INFO']));
        if (info.get('cluster_state') !== 'ok') return false;
        if (info.get('cluster_slots_assigned') !== '16384' || info.get('cluster_slots_ok') !== '16384') return false;
        if (knownNodes !== undefined && info.get('cluster_known_nodes') !== String(knownNodes)) return false;
        // Right after a kill the survivors still say ok (failure detection takes the node
        // timeout): also require every slot-serving master to be a running node.
        const live = new Set(nodes.filter((x) => x.running).map((x) => x.port));
        for (const entry of parseClusterNodes(String(await redisCommand(n.port, ['CLUSTER', 'NODES'])))) {
          if (entry.master && entry.slots.length > 0 && (!live.has(entry.port) || entry.failing)) return false;
        }
      }
      return true;
    },
    { timeoutMs, description: 'every cluster node to report cluster_state:ok with 16384 slots on live masters' },
  );
}

async function waitReplicasLinked(nodes: LocalRedisNode[], timeoutMs: number) {
  await waitUntil(
    async () => {
      for (const n of nodes.filter((x) => x.running)) {
        const info = parseInfo(await redisCommand(n.port, ['INFO', 'replication']));
        if (info.get('role') === 'slave' && info.get('master_link_status') !== 'up') return false;
      }
      return true;
    },
    { timeoutMs, description: 'every replica to link to its master' },
  );
}

async function waitReplicationCaughtUp(nodes: LocalRedisNode[], timeoutMs: number) {
  await waitUntil(
    async () => {
      for (const n of nodes.filter((x) => x.running)) {
        const info = parseInfo(await redisCommand(n.port, ['INFO', 'replication']));
        if (info.get('role') !== 'master') continue;
        const offset = info.get('master_repl_offset');
        for (const [k, v] of info) {
          if (/^slave\d+$/.test(k) && !v.includes(`offset=${offset},`)) return false;
        }
      }
      return true;
    },
    { timeoutMs, description: 'replicas to catch up with their masters' },
  );
}

/** One line of CLUSTER NODES. */
interface ClusterNodesEntry {
  port: number;
  master: boolean;
  /** Flagged `fail` or `fail?`. */
  failing: boolean;
  /** Served slot ranges `[lo, hi]` (migrating/importing markers left out). */
  slots: [number, number][];
}

function parseClusterNodes(table: string): ClusterNodesEntry[] {
  const out: ClusterNodesEntry[] = [];
  for (const line of table.split('\n')) {
    const [, address, flags, , , , , , ...ranges] = line.trim().split(' ');
    if (address === undefined || flags === undefined) continue;
    const flagList = flags.split(',');
    out.push({
      port: Number(address.split('@')[0]!.split(':').pop()),
      master: flagList.includes('master'),
      failing: flagList.includes('fail') || flagList.includes('fail?'),
      slots: ranges
        .filter((r) => r !== '' && !r.startsWith('['))
        .map((r) => {
          const [lo, hi] = r.split('-').map(Number);
          return [lo!, hi ?? lo!];
        }),
    });
  }
  return out;
}

/** Parses CLUSTER NODES on a live node and finds the live master serving `key`'s slot. */
async function masterPortOf(nodes: LocalRedisNode[], key: string): Promise<number> {
  const live = nodes.find((n) => n.running);
  if (live === undefined) throw new Error('no live cluster node');
  const slot = Number(await redisCommand(live.port, ['CLUSTER', 'KEYSLOT', key]));
  const table = String(await redisCommand(live.port, ['CLUSTER', 'NODES']));
  for (const entry of parseClusterNodes(table)) {
    if (!entry.master || entry.failing) continue;
    if (entry.slots.some(([lo, hi]) => slot >= lo && slot <= hi)) return entry.port;
  }
  throw new Error(`no live master serves slot ${slot} (key ${key})`);
}
