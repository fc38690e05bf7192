/**
 * The client response's `close` and `drain` events, delivered to the request in flight without a
 * closure per request: the request hangs on the response and two shared listeners find it there.
 */
import type { ServerResponse } from 'node:http';

/** What a response's events are delivered to (a {@link import('./forward-request.js').ProxyExchange}). */
export interface ResponseEventTarget {
  /** The client went away (connection closed before the response finished). */
  clientClosed(): void;
  /** The client can take more bytes. */
  drained(): void;
}

interface WithTarget {
  [kTarget]?: ResponseEventTarget;
}
const kTarget = Symbol('fleetgate.exchange');

function onResClose(this: ServerResponse & WithTarget): void {
  this[kTarget]?.clientClosed();
}
function onResDrain(this: ServerResponse & WithTarget): void {
  this[kTarget]?.drained();
}

/**
 * Delivers `res`'s `close` to `target` from now on (and `drain`, once {@link listenDrain} is called).
 * @example listenResponse(res, exchange); // exchange.clientClosed() when the client leaves
 */
export function listenResponse(res: ServerResponse, target: ResponseEventTarget): void {
  (res as ServerResponse & WithTarget)[kTarget] = target;
  res.on('close', onResClose);
}

/** Also delivers `res`'s `drain` (backpressure: called at the first write that did not fit). */
export function listenDrain(res: ServerResponse): void {
  res.on('drain', onResDrain);
}

/** Stops delivering: later events of `res` reach nobody. */
export function stopResponseEvents(res: ServerResponse): void {
  (res as ServerResponse & WithTarget)[kTarget] = undefined;
}
