/**
 * Gives requests and responses whose prototype was swapped after construction one shared
 * hidden class again, before the proxy and Node's HTTP code touch them.
 *
 * Express re-parents every `req`/`res` with `Object.setPrototypeOf`; in V8 each such object then
 * gets a hidden class of its own with every property added afterwards, so all the property
 * accesses of a proxied request (Node's `writeHead`, `write`, `end`, the parser, ours) miss their
 * inline caches and fall back to slow runtime lookups. An object in dictionary mode has a hidden
 * class shared with every other dictionary object of the same prototype; deleting a property that
 * is not the last one added is what moves it there. Two symbols added and deleted leave the
 * object exactly as it was. bench/proxy shows the effect (fleetgate inside Express).
 *
 * Objects with Node's own prototypes (bare `node:http`, the `fleetgate` bin) are left alone, and
 * so are those born with Express's prototypes (`createExpressServer`, or a server whose classes
 * `discoveryProxy()` adopted: lib/http/express-server.ts): they already share their hidden
 * classes, and moving them to dictionary mode would only slow them down.
 */
import { IncomingMessage, ServerResponse } from 'node:http';
import { isBornPrototype } from '../http/express-server.js';

const kFirst = Symbol('fleetgate.shape.first');
const kSecond = Symbol('fleetgate.shape.second');

type Slots = { [kFirst]?: unknown; [kSecond]?: unknown };

function toDictionaryMode(obj: Slots): void {
  obj[kFirst] = undefined;
  obj[kSecond] = undefined;
  delete obj[kFirst];
  delete obj[kSecond];
}

/**
 * Settles `req` and `res` when a framework swapped their prototypes (Express does, per request).
 * Observable state is unchanged: same properties, same prototype, same values.
 */
export function settleShapes(req: IncomingMessage, res: ServerResponse): void {
  const resProto = Object.getPrototypeOf(res) as object;
  if (resProto !== ServerResponse.prototype && !isBornPrototype(resProto)) toDictionaryMode(res as Slots);
  const reqProto = Object.getPrototypeOf(req) as object;
  if (reqProto !== IncomingMessage.prototype && !isBornPrototype(reqProto)) toDictionaryMode(req as Slots);
}
