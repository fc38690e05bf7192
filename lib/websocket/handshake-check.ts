/**
 * The client's WebSocket handshake (RFC 6455 §4.2.1), checked before anything is routed or
 * forwarded, for raw tunnels and the message endpoint alike: a GET upgrade to `websocket`, one
 * `Sec-WebSocket-Key` that is the base64 of 16 bytes, and `Sec-WebSocket-Version: 13`. Without
 * this an instance would be sent (and answer 101 to) handshakes no client library makes.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { FleetgateError } from '../errors.js';
import { writeRawError } from './raw-response.js';

/** The only WebSocket version there is. */
export const WEBSOCKET_VERSION = '13';

/** 24 base64 characters ending in `==`: exactly 16 bytes. */
const KEY = /^[A-Za-z0-9+/]{21}[AQgw]==$/;

/**
 * What is wrong with a handshake, or undefined when it is valid: 400 `ERR_FG_BAD_HANDSHAKE`, or
 * 426 (same code) when `Sec-WebSocket-Version` is present but not 13.
 * @example handshakeError(req)?.status // 426 for Sec-WebSocket-Version: 8
 */
export function handshakeError(req: IncomingMessage): FleetgateError | undefined {
  if (req.method !== 'GET') return bad(`a WebSocket handshake is a GET, got ${req.method}`);
  if ((req.headers.upgrade ?? '').toLowerCase() !== 'websocket') {
    return bad(`only WebSocket upgrades are accepted, got Upgrade: ${JSON.stringify(req.headers.upgrade ?? '')}`);
  }
  const version = req.headers['sec-websocket-version'];
  if (version === undefined) return bad('Sec-WebSocket-Version is missing');
  if (version.trim() !== WEBSOCKET_VERSION) {
    return new FleetgateError(
      'ERR_FG_BAD_HANDSHAKE',
      `Sec-WebSocket-Version ${JSON.stringify(version)} is not supported; use 13`,
      {
        status: 426,
      },
    );
  }
  const key = req.headers['sec-websocket-key'];
  if (key === undefined || !KEY.test(key.trim())) {
    return bad('Sec-WebSocket-Key must be one base64-encoded 16-byte value');
  }
  return undefined;
}

function bad(message: string): FleetgateError {
  return new FleetgateError('ERR_FG_BAD_HANDSHAKE', message);
}

/** Answers a refused handshake on the raw socket (426 names the version to use) and closes it. */
export function refuseHandshake(socket: Duplex, error: FleetgateError): void {
  socket.on('error', () => socket.destroy());
  writeRawError(socket, error, error.status === 426 ? [`Sec-WebSocket-Version: ${WEBSOCKET_VERSION}`] : []);
}
