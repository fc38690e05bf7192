/**
 * An address that never answers a TCP handshake, on loopback: a listener with a one-slot accept
 * queue in a child process that is then stopped (SIGSTOP). The kernel completes handshakes only
 * while the queue has room; once it is filled, every further SYN is dropped and the caller's
 * connect hangs until its own timeout, as with a host that went dark.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import net from 'node:net';

/** A stopped listener whose address swallows new connections. */
export interface Blackhole extends AsyncDisposable {
  /** `http://127.0.0.1:<port>`. */
  readonly url: string;
  readonly port: number;
  /** Resumes and kills the child, and closes the connections that filled its queue. */
  close(): Promise<void>;
}

const LISTENER = `
const net = require('node:net');
const server = net.createServer();
server.listen({ port: 0, host: '127.0.0.1', backlog: 1 }, () => process.stdout.write(String(server.address().port) + '\\n'));
`;

/** Starts a blackhole; `connect()` to its URL stays pending until it times out. */
export async function startBlackhole(): Promise<Blackhole> {
  const child: ChildProcess = spawn(process.execPath, ['-e', LISTENER], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<number>((resolve, reject) => {
    let out = '';
    child.stdout!.setEncoding('utf8');
    child.stdout!.on('data', (d: string) => {
      out += d;
      if (out.includes('\n')) resolve(Number(out.trim()));
    });
    child.once('exit', (code) => reject(new Error(`blackhole listener exited (${code}) before listening`)));
  });
  child.kill('SIGSTOP');
  // Fill the accept queue (backlog 1 holds up to 2 completed handshakes); connects beyond it hang.
  const fillers: net.Socket[] = [];
  for (let i = 0; i < 3; i++) {
    const s = net.connect(port, '127.0.0.1');
    s.on('error', () => {});
    fillers.push(s);
  }
  await Promise.all(fillers.slice(0, 2).map((s) => once(s, 'connect')));
  await assertSwallows(port);
  let closed: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closed ??= (async () => {
      for (const s of fillers) s.destroy();
      if (child.exitCode === null && child.signalCode === null) {
        const exited = once(child, 'exit');
        child.kill('SIGKILL');
        child.kill('SIGCONT');
        await exited;
      }
    })();
    return closed;
  };
  return { url: `http://127.0.0.1:${port}`, port, close, [Symbol.asyncDispose]: close };
}

/** A fresh connect must still be pending after 150 ms, or this kernel does not drop SYNs here. */
async function assertSwallows(port: number): Promise<void> {
  const probe = net.connect(port, '127.0.0.1');
  probe.on('error', () => {});
  const outcome = await Promise.race([
    once(probe, 'connect').then(() => 'connected'),
    new Promise<string>((resolve) => setTimeout(resolve, 150, 'pending').unref()),
  ]);
  probe.destroy();
  if (outcome !== 'pending') throw new Error('blackhole: the kernel completed a handshake past a full accept queue');
}
