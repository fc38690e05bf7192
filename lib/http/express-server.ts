/**
 * `createExpressServer(app)`: an `http.Server` for an Express app whose requests and responses
 * are born with the app's own prototypes.
 *
 * Express re-parents every `req`/`res` to `app.request`/`app.response` with
 * `Object.setPrototypeOf` at the start of each request. V8 then gives each of those objects a
 * hidden class of its own as soon as a property is added (Express adds `locals`, `next`, …), so
 * every property access in Node's HTTP code and in every middleware misses its inline cache.
 * Built with these classes, the objects already have the prototype Express sets, the swap is a
 * no-op, and their shapes stay shared: bench/proxy measures what it is worth.
 */
import { EventEmitter } from 'node:events';
import { createServer, IncomingMessage, type Server, type ServerOptions, ServerResponse } from 'node:http';
import { applyServerLimits, resolveServerLimits, type ServerLimits, serverOptionsFor } from './server-limits.js';

/** What {@link createExpressServer} needs of an app: Express 4/5 (or anything with the same shape). */
export interface ExpressLikeApp {
  (req: IncomingMessage, res: ServerResponse): void;
  /** The prototype Express gives every request (`app.request`). */
  readonly request: object;
  /** The prototype Express gives every response (`app.response`). */
  readonly response: object;
}

/**
 * `http.createServer` options, minus the two classes this function provides, plus the gateway's
 * server limits (lib/http/server-limits.ts; Node's own options such as `requestTimeout` win over them).
 */
export type ExpressServerOptions = Omit<ServerOptions, 'IncomingMessage' | 'ServerResponse'> & {
  /** Timeouts, header size and connection cap. @default SERVER_LIMITS_DEFAULTS */
  limits?: Partial<ServerLimits>;
};

/**
 * Creates the server for `app`, as `http.createServer(app)` would, with request and response
 * classes whose prototypes are `app.request` and `app.response`. Everything else is unchanged:
 * sub-apps mounted with their own prototypes still work (their requests are re-parented as
 * before), and `discoveryProxy()` handles either kind of server. The server gets the gateway's
 * production limits (headers 15 s, whole request 60 s, keep-alive 5 s, 16 KiB of headers,
 * 10,000 connections) unless `options` says otherwise.
 * @example
 * const app = express();
 * app.use(discoveryProxy());
 * createExpressServer(app).listen(8080);   // instead of app.listen(8080)
 */
export function createExpressServer(app: ExpressLikeApp, options: ExpressServerOptions = {}): Server {
  const Request = subclassWithPrototype(IncomingMessage, app.request);
  const Response = subclassWithPrototype(ServerResponse, app.response);
  const { limits: given, ...nodeOptions } = options;
  const limits = resolveServerLimits({
    ...given,
    ...(nodeOptions.headersTimeout === undefined ? {} : { headersTimeoutMs: nodeOptions.headersTimeout }),
    ...(nodeOptions.requestTimeout === undefined ? {} : { requestTimeoutMs: nodeOptions.requestTimeout }),
    ...(nodeOptions.keepAliveTimeout === undefined ? {} : { keepAliveTimeoutMs: nodeOptions.keepAliveTimeout }),
    ...(nodeOptions.maxHeaderSize === undefined ? {} : { maxHeaderSize: nodeOptions.maxHeaderSize }),
  });
  const server = createServer(
    {
      ...serverOptionsFor(limits),
      ...nodeOptions,
      IncomingMessage: Request as unknown as typeof IncomingMessage,
      ServerResponse: Response as unknown as typeof ServerResponse,
    },
    app,
  );
  applyServerLimits(server, limits);
  return server;
}

/** Prototypes that requests and responses are born with (see {@link isBornPrototype}). */
const bornPrototypes = new WeakSet<object>();

/**
 * Whether objects of this prototype were built with it by a server of {@link createExpressServer}
 * or {@link adoptExpressClasses}: such objects share their hidden classes already and Express's
 * per-request `setPrototypeOf` left them alone.
 * @example isBornPrototype(Object.getPrototypeOf(res)) // true under createExpressServer(app)
 */
export function isBornPrototype(prototype: object | null): boolean {
  return prototype !== null && bornPrototypes.has(prototype);
}

/**
 * Gives a server made by `http.createServer(app)` or `app.listen()` what {@link createExpressServer}
 * gives its own: requests and responses born with the app's prototypes. Called by
 * `discoveryProxy()` on the first request it sees on a server, with that request's objects;
 * from the next request on (every connection, kept-alive ones included: Node reads the classes
 * per request), Express's re-parenting is a no-op.
 *
 * Only done when nothing else can tell: the server's one `request` listener is the app that
 * re-parented `req`/`res` (a sub-app, a second listener or a server built with classes of its
 * own are left alone), and the server still holds Node's own classes. Node keeps them under
 * private symbols (`Symbol('IncomingMessage')`, `Symbol('ServerResponse')` in Node 20); a Node
 * that stores them otherwise is left alone too.
 * @returns whether the server now builds objects with the app's prototypes.
 * @example
 * adoptExpressClasses(req.socket.server, req, res);
 */
export function adoptExpressClasses(server: unknown, req: IncomingMessage, res: ServerResponse): boolean {
  if (!(server instanceof EventEmitter)) return false;
  const reqProto = Object.getPrototypeOf(req) as object;
  const resProto = Object.getPrototypeOf(res) as object;
  if (reqProto === IncomingMessage.prototype || isBornPrototype(reqProto)) return false;
  const listeners = server.listeners('request');
  const app = listeners[0] as Partial<ExpressLikeApp> | undefined;
  if (listeners.length !== 1 || app?.request !== reqProto || app.response !== resProto) return false;
  if (!inherits(IncomingMessage, reqProto) || !inherits(ServerResponse, resProto)) return false;
  const slots = server as unknown as Record<symbol, unknown>;
  let reqSlot: symbol | undefined;
  let resSlot: symbol | undefined;
  for (const key of Object.getOwnPropertySymbols(server)) {
    if (key.description === 'IncomingMessage' && slots[key] === IncomingMessage) reqSlot = key;
    else if (key.description === 'ServerResponse' && slots[key] === ServerResponse) resSlot = key;
  }
  if (reqSlot === undefined || resSlot === undefined) return false;
  slots[reqSlot] = subclassWithPrototype(IncomingMessage, reqProto);
  slots[resSlot] = subclassWithPrototype(ServerResponse, resProto);
  return true;
}

function inherits(Base: { prototype: object }, prototype: object): boolean {
  return Object.prototype.isPrototypeOf.call(Base.prototype, prototype);
}

/**
 * A constructor that builds `Base` instances (Node's own constructor runs) whose prototype is
 * `prototype`, which must itself inherit from `Base.prototype`.
 */
function subclassWithPrototype<T extends object>(Base: new (...args: never[]) => T, prototype: object): new () => T {
  if (!(prototype instanceof Object) || !inherits(Base, prototype)) {
    throw new TypeError(`createExpressServer: the app's prototype does not inherit from ${Base.name}.prototype`);
  }
  // Node 20-24 write IncomingMessage/ServerResponse as plain constructor functions: calling them on
  // `this` keeps one hidden class per app for every object built. Reflect.construct with a foreign
  // new.target works for a `class` too, but V8 then derives a new hidden class for every object.
  const isClass = Function.prototype.toString.call(Base).startsWith('class');
  const Subclass = isClass
    ? (...args: unknown[]): T => Reflect.construct(Base, args, Subclass)
    : function (this: T, ...args: unknown[]): void {
        (Base as unknown as (...a: unknown[]) => void).apply(this, args);
      };
  Subclass.prototype = prototype;
  bornPrototypes.add(prototype);
  return Subclass as unknown as new () => T;
}
