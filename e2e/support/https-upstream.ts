/**
 * An HTTPS upstream for tests: a JSON echo (`{ url, secure: true }`) on 127.0.0.1 with the
 * fixture server certificate (fixtures/tls), optionally requiring a client certificate.
 */
import { once } from 'node:events';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { WebSocketServer } from 'ws';
import { TLS } from '../../fixtures/tls-material.js';

/** A running HTTPS upstream. */
export interface HttpsUpstream {
  /** `https://127.0.0.1:port`, as an instance registers it. */
  readonly url: string;
  /** Requests that reached the handler. */
  hits: number;
  /** CN of the last client certificate seen, when mutual TLS is on. */
  clientCn: string | undefined;
  close(): Promise<void>;
}

/** Listens on 127.0.0.1:0; `close()` also drops open connections. */
async function listenLoopback(server: Server): Promise<{ url: string; close(): Promise<void> }> {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    url: `https://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: async () => {
      const closed = once(server, 'close');
      server.close();
      server.closeAllConnections();
      await closed;
    },
  };
}

/** Starts an HTTPS echo server on 127.0.0.1; `mutual` requires a client certificate signed by the fixture CA. */
export async function httpsUpstream(mutual: boolean): Promise<HttpsUpstream> {
  const seen = { hits: 0, clientCn: undefined as string | undefined };
  const server = createServer(
    {
      cert: TLS.serverCert,
      key: TLS.serverKey,
      ...(mutual ? { ca: TLS.ca, requestCert: true, rejectUnauthorized: true } : {}),
    },
    (req, res) => {
      seen.hits++;
      if (mutual) seen.clientCn = String((req.socket as TLSSocket).getPeerCertificate().subject?.CN);
      const body = JSON.stringify({ url: req.url, secure: true });
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
      res.end(body);
    },
  );
  const { url, close } = await listenLoopback(server);
  return Object.assign(seen, { url, close });
}

/** A running `wss:` upstream. */
export interface WssUpstream {
  /** `https://127.0.0.1:port`, as an instance registers it. */
  readonly url: string;
  close(): Promise<void>;
}

/**
 * Starts a WebSocket server over HTTPS (fixture certificate) on 127.0.0.1 that answers every text
 * message with `reply(text)`; `path` limits it to one path, as message-routing endpoints are.
 */
export async function wssUpstream(reply: (text: string) => string, path?: string): Promise<WssUpstream> {
  const server = createServer({ cert: TLS.serverCert, key: TLS.serverKey });
  const wss = new WebSocketServer({ server, ...(path === undefined ? {} : { path }) });
  wss.on('connection', (ws) => ws.on('message', (data) => ws.send(reply(String(data)))));
  const { url, close } = await listenLoopback(server);
  return {
    url,
    close: async () => {
      for (const ws of wss.clients) ws.terminate();
      wss.close();
      await close();
    },
  };
}
