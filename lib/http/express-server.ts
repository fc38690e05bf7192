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

/**
 * A constructor that builds `Base` instances (Node's own constructor runs) whose prototype is
 * `prototype`, which must itself inherit from `Base.prototype`.
 */
function subclassWithPrototype<T extends object>(Base: new (...args: never[]) => T, prototype: object): new () => T {
  if (!(prototype instanceof Object) || !Object.prototype.isPrototypeOf.call(Base.prototype, prototype)) {
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
  return Subclass as unknown as new () => T;
}
