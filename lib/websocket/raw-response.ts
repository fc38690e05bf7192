/**
 * HTTP responses written straight onto the socket of an upgrade request, which has no
 * `ServerResponse`: the coded JSON error (404/502/503/504) and the upstream's own answer when it
 * refused the upgrade. Every one ends with `Connection: close` and the socket is destroyed once
 * it is flushed, so a refused upgrade never leaves a socket behind.
 */
import type { IncomingMessage } from 'node:http';
import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import type { FleetgateError } from '../errors.js';

/** Headers of an upstream refusal that describe the connection, not the answer. */
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'transfer-encoding',
  'upgrade',
  'content-length',
  'proxy-connection',
  'te',
  'trailer',
]);

/** Largest refusal body relayed from an upstream; the rest is cut. */
const MAX_RELAYED_BODY = 64 * 1024;

/**
 * Answers an upgrade request with `error` as `{"error":{"code","message"}}` and closes the socket.
 * @param extraHeaders more `Name: value` lines, e.g. `Sec-WebSocket-Version: 13` on a 426.
 * @example writeRawError(socket, noRouteError('GET', '/live/x'));
 */
export function writeRawError(socket: Duplex, error: FleetgateError, extraHeaders: readonly string[] = []): void {
  const body = JSON.stringify(error.toJSON());
  writeRaw(
    socket,
    error.status,
    [
      'Content-Type: application/json; charset=utf-8',
      'Cache-Control: no-store',
      'X-Gateway: fleetgate',
      ...(error.status === 503 ? ['Retry-After: 1'] : []),
      ...extraHeaders,
    ],
    Buffer.from(body),
  );
}

/**
 * Relays an upstream's non-101 answer to an upgrade (its status, headers and up to 64 KiB of
 * body) and closes both sockets.
 */
export function relayRefusal(socket: Duplex, res: IncomingMessage): void {
  const headers: string[] = ['X-Gateway: fleetgate'];
  const raw = res.rawHeaders;
  for (let i = 0; i < raw.length; i += 2) {
    if (!HOP_BY_HOP.has(raw[i]!.toLowerCase())) headers.push(`${raw[i]}: ${raw[i + 1]}`);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  let done = false;
  const finish = (): void => {
    if (done) return;
    done = true;
    res.destroy();
    writeRaw(socket, res.statusCode ?? 502, headers, Buffer.concat(chunks), res.statusMessage);
  };
  res.on('data', (chunk: Buffer) => {
    if (size >= MAX_RELAYED_BODY) return;
    chunks.push(chunk.subarray(0, MAX_RELAYED_BODY - size));
    size += chunk.length;
    if (size >= MAX_RELAYED_BODY) finish();
  });
  res.once('end', finish);
  res.once('error', finish);
  // The client may leave while the body is still coming.
  socket.once('close', () => res.destroy());
}

function writeRaw(socket: Duplex, status: number, headers: string[], body: Buffer, message?: string): void {
  if (socket.destroyed) return;
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  const head =
    `HTTP/1.1 ${status} ${message || STATUS_CODES[status] || 'Error'}\r\n` +
    `${headers.join('\r\n')}\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n`;
  socket.write(head);
  socket.end(body, () => socket.destroy());
}
