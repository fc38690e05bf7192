/**
 * Free loopback ports for test servers.
 *
 * Ports come from a range below Linux's ephemeral range (32768–60999), never from `listen(0)`:
 * a client reconnecting in a loop to a killed server on an ephemeral-range port can, rarely,
 * get that very port as its own source port and connect to itself (TCP simultaneous open).
 * Redis Cluster also needs `port + 10000` (its bus port) to be free and below 32768.
 */
import { createServer } from 'node:net';

/** Where {@link freePort} looks. */
export interface FreePortOptions {
  /** Lowest port tried. @default 12000 */
  min?: number;
  /** Highest port tried. @default 21000 */
  max?: number;
  /** Offsets from the port that must be free as well, e.g. `[10000]` for a Redis Cluster bus port. @default [] */
  alsoFree?: readonly number[];
  /** Ports not to hand out even if free (already chosen for a sibling process). @default [] */
  exclude?: readonly number[];
  /** Random candidates tried before giving up. @default 200 */
  attempts?: number;
}

/** Resolves `true` when nothing listens on `127.0.0.1:port` (checked by binding it briefly). */
export function isPortFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.unref();
    server.once('error', () => resolve(false));
    server.listen({ port, host: '127.0.0.1', exclusive: true }, () => {
      server.close(() => resolve(true));
    });
  });
}

// Ports handed out by this process stay reserved so two servers started at once never collide.
const handedOut = new Set<number>();

/**
 * A random free loopback port in `[min, max]` whose `alsoFree` offsets are free too.
 * @example const [port] = [await freePort()];
 * @example const clusterPort = await freePort({ alsoFree: [10000] });
 */
export async function freePort(options: FreePortOptions = {}): Promise<number> {
  const min = options.min ?? 12000;
  const max = options.max ?? 21000;
  const offsets = options.alsoFree ?? [];
  const exclude = new Set(options.exclude ?? []);
  const attempts = options.attempts ?? 200;
  for (let i = 0; i < attempts; i++) {
    const port = min + Math.floor(Math.random() * (max - min + 1));
    const all = [port, ...offsets.map((o) => port + o)];
    if (all.some((p) => handedOut.has(p) || exclude.has(p))) continue;
    let free = true;
    for (const p of all) {
      if (!(await isPortFree(p))) {
        free = false;
        break;
      }
    }
    if (!free) continue;
    for (const p of all) handedOut.add(p);
    return port;
  }
  throw new Error(`no free loopback port in ${min}-${max} after ${attempts} attempts`);
}

/** Returns ports to the pool once their server is gone for good. */
export function releasePorts(...ports: number[]): void {
  for (const p of ports) handedOut.delete(p);
}
