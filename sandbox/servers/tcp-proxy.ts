/**
 * A loopback TCP proxy that a test can cut and restore: a network partition between one client
 * and a server that keeps running (other clients still reach it directly).
 */
import { connect, createServer, type Server, type Socket } from 'node:net';
import { freePort, releasePorts } from './free-port.js';

/** A running {@link startTcpProxy}. */
export interface TcpProxy extends AsyncDisposable {
  /** The port clients connect to. */
  readonly port: number;
  /** Drops every open connection and refuses new ones (accepted and reset at once). */
  cut(): void;
  /** Lets connections through again. */
  restore(): void;
  /** True while cut. */
  readonly isCut: boolean;
  close(): Promise<void>;
}

/**
 * Proxies `127.0.0.1:<proxy.port>` to `targetHost:targetPort`.
 * @example
 * await using proxy = await startTcpProxy(etcd.port);
 * const client = new Etcd3({ hosts: `http://127.0.0.1:${proxy.port}` });
 * proxy.cut(); // the client is partitioned, etcd keeps running
 */
export async function startTcpProxy(targetPort: number, targetHost = '127.0.0.1'): Promise<TcpProxy> {
  const port = await freePort();
  const sockets = new Set<Socket>();
  let isCut = false;
  const server: Server = createServer((inbound) => {
    if (isCut) {
      inbound.resetAndDestroy();
      return;
    }
    const outbound = connect({ port: targetPort, host: targetHost });
    sockets.add(inbound);
    sockets.add(outbound);
    const drop = (): void => {
      inbound.destroy();
      outbound.destroy();
      sockets.delete(inbound);
      sockets.delete(outbound);
    };
    inbound.on('error', drop).on('close', drop);
    outbound.on('error', drop).on('close', drop);
    inbound.pipe(outbound);
    outbound.pipe(inbound);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ port, host: '127.0.0.1' }, resolve);
  });
  server.unref();
  let closed = false;
  const close = async (): Promise<void> => {
    if (closed) return;
    closed = true;
    for (const s of sockets) s.destroy();
    sockets.clear();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    releasePorts(port);
  };
  return {
    port,
    cut() {
      isCut = true;
      for (const s of sockets) s.resetAndDestroy();
      sockets.clear();
    },
    restore() {
      isCut = false;
    },
    get isCut() {
      return isCut;
    },
    close,
    [Symbol.asyncDispose]: close,
  };
}
