/**
 * Upstream connects with a deadline on the injectable clock.
 *
 * undici's own `connectTimeout` runs on its coarse "fast timers" (about half a second of
 * resolution): a 250 ms connect timeout fires after about a second. This connector turns
 * undici's timer off and keeps its own, so the timeout is what was configured and tests can
 * drive it with a `FakeClock`. Everything else (TLS sessions, keep-alive, no-delay) is undici's.
 */
import type { Socket } from 'node:net';
import type { ConnectionOptions } from 'node:tls';
import { buildConnector, errors } from 'undici';
import type { Clock } from '../clock.js';

/**
 * An undici `connect` function that fails with `UND_ERR_CONNECT_TIMEOUT` when the TCP (and TLS)
 * handshake has not finished `timeoutMs` after it began. `tls` applies to `https:` origins.
 * @example
 * new Pool(origin, { connect: connectorWithDeadline(2000, realClock) });
 */
export function connectorWithDeadline(
  timeoutMs: number,
  clock: Clock,
  tls?: ConnectionOptions,
): buildConnector.connector {
  // timeout 0: undici sets no timer of its own.
  const connect = buildConnector({ ...tls, timeout: 0 } as buildConnector.BuildOptions);
  return (options, callback) => {
    let settled = false;
    let socket: Socket | undefined;
    const timer = clock.setTimeout(() => {
      if (settled) return;
      settled = true;
      socket?.destroy();
      const where = `${options.hostname}:${options.port}`;
      callback(new errors.ConnectTimeoutError(`connecting to ${where} took longer than ${timeoutMs} ms`), null);
    }, timeoutMs);
    // undici's connector returns the socket it created (its typings say void).
    socket = (connect as unknown as (o: typeof options, cb: buildConnector.Callback) => Socket | undefined)(
      options,
      (...args) => {
        if (settled) {
          args[1]?.destroy();
          return;
        }
        settled = true;
        timer.cancel();
        callback(...args);
      },
    );
  };
}
