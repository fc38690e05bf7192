/**
 * A network namespace joined to the root namespace by a veth pair, for real partitions in
 * tests: a store started inside it (`wrap()`) is reached at `innerAddress`; `cut()` sets the
 * inner end of the pair down, so packets vanish both ways (no RST, no FIN: the sockets stay open
 * as across a real partition) and `heal()` brings it back. Needs root and `ip netns`
 * ({@link netnsSkipReason}). Names are unique per run (pid + counter); the addresses are a /30
 * in 10.213.0.0/16 not used on this machine, created and removed by the test. Everything is
 * deleted on `close()`, and by a process exit hook if the test dies first.
 */
import { execFile, execFileSync } from 'node:child_process';
import { randomInt } from 'node:crypto';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** A namespace with its veth link. */
export interface NetnsLink extends AsyncDisposable {
  /** The namespace's name. */
  readonly name: string;
  /** The root namespace's end of the link, e.g. `10.213.7.1`. */
  readonly hostAddress: string;
  /** The address servers inside the namespace listen on, e.g. `10.213.7.2`. */
  readonly innerAddress: string;
  /** Whether the link is cut. */
  readonly isCut: boolean;
  /** `command args…` run inside the namespace: `ip netns exec <name> command args…` (same pid: ip execs). */
  wrap(command: string, args: readonly string[]): { command: string; args: string[] };
  /** Partitions the namespace: its end of the veth goes down; packets are dropped silently. */
  cut(): Promise<void>;
  /** Ends the partition. */
  heal(): Promise<void>;
  /** Deletes the namespace and the veth pair. Idempotent. */
  close(): Promise<void>;
}

const live = new Set<string>();
let hookInstalled = false;
let counter = 0;

function deleteSync(name: string): void {
  try {
    execFileSync('ip', ['netns', 'del', name], { stdio: 'ignore' });
  } catch {
    // Already gone.
  }
  live.delete(name);
}

function installHook(): void {
  if (hookInstalled) return;
  hookInstalled = true;
  process.on('exit', () => {
    for (const name of [...live]) deleteSync(name);
  });
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    const onSignal = (): void => {
      for (const name of [...live]) deleteSync(name);
      process.off(signal, onSignal);
      // Delivered again: other cleanup hooks run, then the default action ends the process.
      process.kill(process.pid, signal);
    };
    process.on(signal, onSignal);
  }
}

/** `undefined` when namespaces can be made here (root, `ip netns`, veth), else why not. */
export async function netnsSkipReason(): Promise<string | undefined> {
  if (process.platform !== 'linux') return `network namespaces need Linux (this is ${process.platform})`;
  if (process.getuid?.() !== 0) return 'network namespaces need root';
  let link: NetnsLink | undefined;
  try {
    link = await createNetns();
    return undefined;
  } catch (err) {
    return `cannot create a network namespace: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`;
  } finally {
    await link?.close();
  }
}

/** A /30 in 10.213.0.0/16 with no address of it on this machine. */
async function freeSubnet(): Promise<[string, string]> {
  const { stdout } = await run('ip', ['-o', '-4', 'addr', 'show']);
  for (let attempt = 0; attempt < 50; attempt++) {
    const third = randomInt(0, 256);
    const base = randomInt(0, 64) * 4;
    const taken = [0, 1, 2, 3].some((d) => stdout.includes(` 10.213.${third}.${base + d}/`));
    if (!taken) return [`10.213.${third}.${base + 1}`, `10.213.${third}.${base + 2}`];
  }
  throw new Error('no free /30 in 10.213.0.0/16');
}

/**
 * Creates a namespace and its link, both ends up.
 * @example
 * await using ns = await createNetns();
 * const { command, args } = ns.wrap('redis-server', ['--bind', ns.innerAddress]);
 */
export async function createNetns(): Promise<NetnsLink> {
  installHook();
  const id = `${(process.pid % 46656).toString(36)}${(counter++).toString(36)}`;
  const name = `fgl-${id}`;
  const outer = `fgo${id}`;
  const inner = `fgi${id}`;
  const [hostAddress, innerAddress] = await freeSubnet();
  live.add(name);
  const ip = (...args: string[]) => run('ip', args);
  const inside = (...args: string[]) => run('ip', ['netns', 'exec', name, 'ip', ...args]);
  try {
    await ip('netns', 'add', name);
    await inside('link', 'set', 'lo', 'up');
    await ip('link', 'add', outer, 'type', 'veth', 'peer', 'name', inner);
    await ip('link', 'set', inner, 'netns', name);
    await ip('addr', 'add', `${hostAddress}/30`, 'dev', outer);
    await ip('link', 'set', outer, 'up');
    await inside('addr', 'add', `${innerAddress}/30`, 'dev', inner);
    await inside('link', 'set', inner, 'up');
  } catch (err) {
    await ip('link', 'del', outer).catch(() => {});
    deleteSync(name);
    throw err;
  }
  let cut = false;
  let closed: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closed ??= (async () => {
      // Deleting the namespace deletes its veth end, and with it the peer.
      await ip('netns', 'del', name).catch(() => {});
      await ip('link', 'del', outer).catch(() => {});
      live.delete(name);
    })();
    return closed;
  };
  return {
    name,
    hostAddress,
    innerAddress,
    get isCut() {
      return cut;
    },
    wrap: (command, args) => ({ command: 'ip', args: ['netns', 'exec', name, command, ...args] }),
    async cut() {
      await inside('link', 'set', inner, 'down');
      cut = true;
    },
    async heal() {
      await inside('link', 'set', inner, 'up');
      cut = false;
    },
    close,
    [Symbol.asyncDispose]: close,
  };
}
