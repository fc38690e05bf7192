/**
 * Middleware chaining for a bare `node:http` server: the gateway's handler is an array of
 * plain `(req, res, next)` middlewares (registry API, health, proxy, ...), so each part plugs in
 * without a framework.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { sendError } from '../core/send-error.js';
import { FleetgateError } from '../errors.js';
import type { Logger } from '../logger.js';

/** Passes control on; with an error, skips the remaining middlewares. */
export type Next = (err?: unknown) => void;

/** A plain middleware, as in Express 4/5 and Connect. It may return a promise; a rejection goes to `next`. */
export type Middleware = (req: IncomingMessage, res: ServerResponse, next: Next) => void | Promise<void>;

/**
 * A composed chain. Called with `next` it is itself a middleware; called by `http.createServer`
 * without one, it answers what nothing handled with a JSON 404 and errors with {@link sendError}.
 */
export type ComposedHandler = (req: IncomingMessage, res: ServerResponse, next?: Next) => void;

/** Options for {@link compose}. */
export interface ComposeOptions {
  /** The error when no middleware handled the request and there is no outer `next`. @default ERR_FG_NOT_FOUND */
  notFound: (req: IncomingMessage) => FleetgateError;
  /** Where unexpected errors are reported. */
  logger: Logger | undefined;
}

const COMPOSE_DEFAULTS: Readonly<ComposeOptions> = Object.freeze({
  notFound: (req: IncomingMessage) =>
    new FleetgateError('ERR_FG_NOT_FOUND', `nothing handles ${req.method ?? 'GET'} ${pathOf(req.url)}`),
  logger: undefined,
});

/**
 * Runs `middlewares` in order.
 * @example
 * http.createServer(compose([registry({ registry: reg }), healthAggregator({ registry: reg })]));
 */
export function compose(middlewares: readonly Middleware[], options: Partial<ComposeOptions> = {}): ComposedHandler {
  const chain = [...middlewares];
  const notFound = options.notFound ?? COMPOSE_DEFAULTS.notFound;
  const logger = options.logger ?? COMPOSE_DEFAULTS.logger;
  return function composed(req, res, done) {
    let index = 0;
    const finish = (err: unknown): void => {
      if (done !== undefined) done(err);
      else if (err !== undefined && err !== null) sendError(res, err, logger === undefined ? {} : { logger });
      else sendError(res, notFound(req));
    };
    const step = (err?: unknown): void => {
      const middleware = err !== undefined && err !== null ? undefined : chain[index++];
      if (middleware === undefined) {
        finish(err);
        return;
      }
      let called = false;
      // A middleware that calls next twice (or throws after calling it) must not run the rest twice.
      const next: Next = (e) => {
        if (called) return;
        called = true;
        step(e);
      };
      try {
        const result = middleware(req, res, next);
        if (result !== undefined && typeof result.then === 'function') {
          result.then(undefined, (e: unknown) => next(e ?? new Error('middleware rejected')));
        }
      } catch (e) {
        next(e);
      }
    };
    step();
  };
}

/** The path of a request target, without the query. */
export function pathOf(url: string | undefined): string {
  if (url === undefined) return '/';
  const q = url.indexOf('?');
  return q === -1 ? url : url.slice(0, q);
}
