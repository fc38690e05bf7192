/**
 * The floors under a heartbeat over HTTP: servers that answer `PUT …/heartbeat` with a JSON body
 * the size of the gateway's and do nothing else. bench/scale.ts forks each (`--floor <kind>`) and
 * sends it the same heartbeats as the gateway, so the ratios show what the gateway adds over HTTP
 * itself and what HTTP costs over the system calls:
 *
 * - `node-http`: a stock `node:http` server (keep-alive, as the gateway), Node's defaults.
 * - `node-http-tuned`: the same with what Node does per request that a server may switch off:
 *   no keep-alive idle timer re-armed per request (`keepAliveTimeout: 0`), no request timeouts
 *   (so no periodic connection check), no `Date` header, headers as one flat array.
 *   Not safe for a gateway (no slowloris protection): it shows what those settings cost.
 * - `net`: a bare `net` server writing one canned HTTP reply per request head it reads, no parser:
 *   the system-call floor (read, write, epoll) of one keep-alive request.
 */
import { createServer, type Server } from 'node:http';
import { type AddressInfo, createServer as createNetServer, type Server as NetServer } from 'node:net';

/** The floor servers bench/scale.ts compares the gateway with, cheapest last. */
export const FLOOR_KINDS = ['node-http', 'node-http-tuned', 'net'] as const;

/** One kind of floor server. */
export type FloorKind = (typeof FLOOR_KINDS)[number];

const HEARTBEAT_PATH = /^\/internal\/services\/([^/]+)\/instances\/([^/]+)\/heartbeat$/;

/** Serves a floor of `kind` in this (forked) process; tells the parent its URL over IPC. */
export function runHeartbeatFloor(kind: FloorKind): void {
  const expiresAt = new Date(Date.now() + 90_000).toISOString();
  // What any handler must do at least: read the target and answer with a small JSON body.
  const bodyFor = (url: string | undefined): string | undefined => {
    const m = HEARTBEAT_PATH.exec(url ?? '');
    return m === null
      ? undefined
      : `{"service":"${m[1]}","instance_id":"${m[2]}","expires_at":"${expiresAt}","status":"UP"}`;
  };
  const server =
    kind === 'net' ? netFloor(expiresAt) : kind === 'node-http' ? stockFloor(bodyFor) : tunedFloor(bodyFor);
  server.listen(0, '127.0.0.1', () => {
    const { port } = server.address() as AddressInfo;
    process.send!({ url: `http://127.0.0.1:${port}` });
  });
  process.on('disconnect', () => process.exit(0));
}

function stockFloor(bodyFor: (url: string | undefined) => string | undefined): Server {
  const server = createServer((req, res) => {
    const body = bodyFor(req.url) ?? '{"error":{"code":"ERR_FG_NOT_FOUND"}}';
    res.writeHead(body.startsWith('{"error"') ? 404 : 200, {
      'content-type': 'application/json; charset=utf-8',
      'content-length': Buffer.byteLength(body),
      'cache-control': 'no-store',
    });
    res.end(body);
  });
  server.keepAliveTimeout = 60_000;
  return server;
}

function tunedFloor(bodyFor: (url: string | undefined) => string | undefined): Server {
  const server = createServer({ keepAliveTimeout: 0, requestTimeout: 0, headersTimeout: 0 }, (req, res) => {
    res.sendDate = false;
    const body = bodyFor(req.url) ?? '{"error":{"code":"ERR_FG_NOT_FOUND"}}';
    res.writeHead(body.startsWith('{"error"') ? 404 : 200, [
      'content-type',
      'application/json; charset=utf-8',
      'content-length',
      String(Buffer.byteLength(body)),
      'cache-control',
      'no-store',
    ]);
    res.end(body);
  });
  return server;
}

/** One canned reply per `\r\n\r\n` read (the heartbeats carry no body): no parsing, no routing. */
function netFloor(expiresAt: string): NetServer {
  const body = `{"service":"svc000","instance_id":"svc000-0","expires_at":"${expiresAt}","status":"UP"}`;
  const reply = Buffer.from(
    `HTTP/1.1 200 OK\r\ncontent-type: application/json; charset=utf-8\r\ncontent-length: ${Buffer.byteLength(body)}\r\ncache-control: no-store\r\nconnection: keep-alive\r\n\r\n${body}`,
  );
  return createNetServer({ noDelay: true }, (socket) => {
    let tail = '';
    socket.on('data', (chunk: Buffer) => {
      const text = tail + chunk.toString('latin1');
      let at = 0;
      let heads = 0;
      for (let end = text.indexOf('\r\n\r\n', at); end !== -1; end = text.indexOf('\r\n\r\n', at)) {
        heads++;
        at = end + 4;
      }
      tail = text.slice(at);
      if (heads === 1) socket.write(reply);
      else if (heads > 1) socket.write(Buffer.concat(Array.from({ length: heads }, () => reply)));
    });
    socket.on('error', () => socket.destroy());
  });
}
