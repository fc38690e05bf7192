/**
 * An HTTPS upstream for tests: a JSON echo (`{ url, secure: true }`) on 127.0.0.1 with the
 * fixture server certificate (fixtures/tls), optionally requiring a client certificate.
 */
import { once } from 'node:events';
import type { IncomingMessage, RequestListener } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { WebSocketServer } from 'ws';
import { TLS } from '../../fixtures/tls-material.js';

/** A running HTTPS upstream. */
export interface HttpsUpstream {
  readonly url: string;
  /** Requests that reached the handler. */
  hits: number;
  /** CN of the last client certificate seen, when mutual TLS is on. */
  clientCn: string | undefined;
  readonly server: Server;
  close(): Promise<void>;
}

/** Starts an HTTPS echo server on 127.0.0.1; `mutual` requires a client certificate signed by the fixture CA. */
export async function httpsUpstream(mutual: boolean): Promise<HttpsUpstream> {
  const up: HttpsUpstream = {
    url: '',
    hits: 0,
    clientCn: undefined,
    server: undefined as unknown as Server,
    close: async () => {},
  };
  const handler: RequestListener = (req: IncomingMessage, res) => {
    up.hits++;
    if (mutual) up.clientCn = String((req.socket as TLSSocket).getPeerCertificate().subject?.CN);
    const body = JSON.stringify({ url: req.url, secure: true });
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  };
  const server = createServer(
    {
      cert: TLS.serverCert,
      key: TLS.serverKey,
      ...(mutual ? { ca: TLS.ca, requestCert: true, rejectUnauthorized: true } : {}),
    },
    handler,
  );
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return Object.assign(up, {
    url: `https://127.0.0.1:${(server.address() as AddressInfo).port}`,
    server,
    close: async () => {
      const closed = once(server, 'close');
      server.close();
      server.closeAllConnections();
      await closed;
    },
  });
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
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    url: `https://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: async () => {
      for (const ws of wss.clients) ws.terminate();
      wss.close();
      const closed = once(server, 'close');
      server.close();
      server.closeAllConnections();
      await closed;
    },
  };
}
