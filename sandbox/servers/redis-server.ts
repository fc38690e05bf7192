/**
 * A throwaway Redis for a test: `redis:7` through testcontainers when a container runtime
 * answers, else a local `redis-server` on a free loopback port with a temp data directory.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chooseProvider, containerRuntime, containerStopper } from './container-runtime.js';
import { freePort, releasePorts } from './free-port.js';
import { ManagedProcess, removeOnExit, removeTempDir } from './managed-process.js';
import { redisCommand } from './redis-protocol.js';
import type { HarnessProvider, TestServer } from './test-server.js';
import { waitUntil } from './wait.js';

/** A running Redis. */
export interface RedisServer extends TestServer {
  /** `redis://127.0.0.1:<port>` */
  readonly url: string;
  readonly host: string;
  readonly port: number;
}

/** Options for {@link startRedis}. */
export interface StartRedisOptions {
  /** Forces a provider. @default chosen by {@link chooseProvider} */
  provider?: HarnessProvider;
  /** Extra `redis-server` arguments, e.g. `['--maxmemory', '10mb']`. */
  extraArgs?: readonly string[];
}

/** `undefined` when {@link startRedis} can run here, else why not (throws in CI instead). */
export async function redisSkipReason(): Promise<string | undefined> {
  return (await chooseProvider('redis-server', ['redis-server'])).skip;
}

/**
 * Starts a Redis and waits until it answers PING.
 * @example
 * await using redis = await startRedis();
 * const client = new Redis(redis.url);
 */
export async function startRedis(options: StartRedisOptions = {}): Promise<RedisServer> {
  const provider = options.provider ?? (await chooseProvider('redis-server', ['redis-server'])).provider;
  if (provider === undefined) throw new Error(`cannot start redis: ${await redisSkipReason()}`);
  if (provider === 'testcontainers') return startRedisContainer(options);
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    const node = new LocalRedisNode(port, options.extraArgs ?? []);
    try {
      await node.start();
      return localHandle(node);
    } catch (err) {
      node.removeData();
      releasePorts(port);
      // Another process may have taken the port between our check and redis binding it.
      if (attempt >= 3 || !node.lastOutput().includes('Address already in use')) throw err;
    }
  }
}

/**
 * One local `redis-server` process on a fixed port and data directory; restartable.
 * Used by {@link startRedis} and by the cluster harness.
 */
export class LocalRedisNode {
  readonly port: number;
  readonly dir: string;
  readonly #args: readonly string[];
  #process: ManagedProcess | undefined;
  #lastOutput = '';

  constructor(port: number, extraArgs: readonly string[]) {
    this.port = port;
    this.dir = mkdtempSync(join(tmpdir(), `fleetgate-redis-${port}-`));
    removeOnExit(this.dir);
    this.#args = [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--save',
      '',
      '--appendonly',
      'no',
      '--dir',
      this.dir,
      '--daemonize',
      'no',
      ...extraArgs,
    ];
  }

  /** True while the process runs. */
  get running(): boolean {
    return this.#process?.running === true;
  }

  /** The OS pid while running. */
  get pid(): number | undefined {
    return this.#process?.pid;
  }

  /** Spawns the server and waits for PING → PONG. */
  async start(): Promise<void> {
    if (this.running) return;
    const proc = new ManagedProcess({ name: `redis-server:${this.port}`, command: 'redis-server', args: this.#args });
    this.#process = proc;
    try {
      await waitUntil(async () => (await redisCommand(this.port, ['PING'], { timeoutMs: 500 })) === 'PONG', {
        description: `redis-server on port ${this.port} to answer PING`,
        fatal: () => (proc.running ? undefined : `exited early:\n${proc.output()}`),
      });
    } catch (err) {
      this.#lastOutput = proc.output();
      await proc.kill();
      throw err;
    }
  }

  /** The output of the latest process (for errors). */
  lastOutput(): string {
    return this.#process?.output() ?? this.#lastOutput;
  }

  /** SIGKILL. */
  async kill(): Promise<void> {
    await this.#process?.kill();
  }

  /** SIGTERM, then SIGKILL after a bound. */
  async stop(): Promise<void> {
    await this.#process?.stop();
  }

  /** Deletes the data directory. */
  removeData(): void {
    removeTempDir(this.dir);
  }
}

function localHandle(node: LocalRedisNode): RedisServer {
  let stopped = false;
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    await node.stop();
    node.removeData();
    releasePorts(node.port);
  };
  return {
    provider: 'local',
    host: '127.0.0.1',
    port: node.port,
    url: `redis://127.0.0.1:${node.port}`,
    stop,
    kill: () => node.kill(),
    async restart() {
      await node.kill();
      await node.start();
    },
    [Symbol.asyncDispose]: stop,
  };
}

async function startRedisContainer(options: StartRedisOptions): Promise<RedisServer> {
  const { GenericContainer, Wait } = await import('testcontainers');
  const runtime = await containerRuntime();
  if (!runtime.available) throw new Error(`no container runtime: ${runtime.reason}`);
  // A fixed host port keeps the address across restart(); Docker would pick a new random one.
  const port = await freePort();
  const container = await new GenericContainer('redis:7')
    .withExposedPorts({ container: 6379, host: port })
    .withCommand(['redis-server', '--save', '', '--appendonly', 'no', ...(options.extraArgs ?? [])])
    .withWaitStrategy(Wait.forLogMessage('Ready to accept connections'))
    .start();
  // 'localhost' may resolve to ::1 first; the published port is certainly on IPv4 loopback.
  const host = container.getHost() === 'localhost' ? '127.0.0.1' : container.getHost();
  const ready = (): Promise<void> =>
    waitUntil(async () => (await redisCommand(port, ['PING'], { host, timeoutMs: 500 })) === 'PONG', {
      description: `redis container on port ${port} to answer PING`,
    }).then(() => undefined);
  const stop = containerStopper(container, port);
  return {
    provider: 'testcontainers',
    host,
    port,
    url: `redis://${host}:${port}`,
    stop,
    async kill() {
      await runtime.client.container.getById(container.getId()).kill({ signal: 'SIGKILL' });
    },
    async restart() {
      await container.restart({ timeout: 0 });
      await ready();
    },
    [Symbol.asyncDispose]: stop,
  };
}
