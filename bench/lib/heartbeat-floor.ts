/**
 * The floor under a heartbeat over HTTP: a bare `node:http` server (keep-alive, as the gateway)
 * that answers `PUT …/heartbeat` with a JSON body the size of the gateway's, doing nothing else.
 * bench/scale.ts forks it (`--floor`) and sends it the same heartbeats as the gateway, so the
 * ratio of their CPU per heartbeat shows what the gateway adds over parsing and writing HTTP.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

/** Serves in this (forked) process; tells the parent its URL over IPC. */
export function runHeartbeatFloor(): void {
  const expiresAt = new Date(Date.now() + 90_000).toISOString();
  const server = createServer((req, res) => {
    // What any handler must do at least: read the target and answer with a small JSON body.
    const m = /^\/internal\/services\/([^/]+)\/instances\/([^/]+)\/heartbeat$/.exec(req.url ?? '');
    const body =
      m === null
        ? '{"error":{"code":"ERR_FG_NOT_FOUND"}}'
        : `{"service":"${m[1]}","instance_id":"${m[2]}","expires_at":"${expiresAt}","status":"UP"}`;
    res.writeHead(m === null ? 404 : 200, {
      'content-type': 'application/json; charset=utf-8',
      'content-length': Buffer.byteLength(body),
      'cache-control': 'no-store',
    });
    res.end(body);
  });
  server.keepAliveTimeout = 60_000;
  server.listen(0, '127.0.0.1', () => {
    const { port } = server.address() as AddressInfo;
    process.send!({ url: `http://127.0.0.1:${port}` });
  });
  process.on('disconnect', () => process.exit(0));
}
