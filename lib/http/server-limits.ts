/**
 * The limits every fleetgate `http.Server` gets (the bin's, `createGateway()`'s and
 * `createExpressServer()`'s): how long a client may take to send its headers and its whole
 * request, how long an idle keep-alive connection stays open, how large the headers may be
 * (beyond it Node answers 431), and how many connections are open at once. Node's own defaults
 * let a client trickling its body hold a connection for 300 s; these are a gateway's.
 */
import type { Server, ServerOptions } from 'node:http';
import { FleetgateError } from '../errors.js';

/** Server limits. Each has an env variable in the bin (README, "The standalone gateway"). */
export interface ServerLimits {
  /** Time to receive the request headers (`SERVER_HEADERS_TIMEOUT`); beyond it Node answers 408 and closes. @default 15000 */
  headersTimeoutMs: number;
  /**
   * Time to receive the whole request, body included (`SERVER_REQUEST_TIMEOUT`): a client sending
   * its body slowly is answered 408 and cut at this point. Time spent waiting for the upstream's
   * answer does not count. @default 60000
   */
  requestTimeoutMs: number;
  /** How long an idle keep-alive connection stays open (`SERVER_KEEPALIVE_TIMEOUT`). @default 5000 */
  keepAliveTimeoutMs: number;
  /** Largest request head in bytes (`SERVER_MAX_HEADER_SIZE`); larger ones are answered 431. @default 16384 */
  maxHeaderSize: number;
  /**
   * Open connections at most (`SERVER_MAX_CONNECTIONS`); connections beyond it are closed as they
   * are accepted (`server.maxConnections`), so the gateway keeps serving those it has. @default 10000
   */
  maxConnections: number;
}

/** Defaults of {@link ServerLimits}. Frozen. */
export const SERVER_LIMITS_DEFAULTS: Readonly<ServerLimits> = Object.freeze({
  headersTimeoutMs: 15_000,
  requestTimeoutMs: 60_000,
  keepAliveTimeoutMs: 5_000,
  maxHeaderSize: 16_384,
  maxConnections: 10_000,
});

function invalid(name: keyof ServerLimits, value: unknown, expected: string): never {
  throw new FleetgateError(
    'ERR_FG_INVALID_CONFIG',
    `server.${name}: ${String(value)} is invalid: expected ${expected}`,
    {
      details: { option: name, value, expected },
    },
  );
}

/**
 * Merges `limits` over {@link SERVER_LIMITS_DEFAULTS} and validates them.
 * @throws FleetgateError `ERR_FG_INVALID_CONFIG` naming the bad limit.
 * @example resolveServerLimits({ requestTimeoutMs: 10_000 }).headersTimeoutMs // 10000 (never above the request timeout)
 */
export function resolveServerLimits(limits: Partial<ServerLimits> = {}): ServerLimits {
  const o: ServerLimits = { ...SERVER_LIMITS_DEFAULTS };
  for (const [k, v] of Object.entries(limits)) if (v !== undefined) (o as unknown as Record<string, unknown>)[k] = v;
  for (const k of [
    'headersTimeoutMs',
    'requestTimeoutMs',
    'keepAliveTimeoutMs',
    'maxHeaderSize',
    'maxConnections',
  ] as const) {
    if (!(Number.isInteger(o[k]) && o[k] >= 1)) invalid(k, o[k], 'a positive integer');
  }
  // Node refuses a headers timeout above the request timeout: the whole request bounds its head.
  if (o.headersTimeoutMs > o.requestTimeoutMs) o.headersTimeoutMs = o.requestTimeoutMs;
  return o;
}

/**
 * The `http.createServer` options for `limits`. Node checks the two request timeouts every
 * `connectionsCheckingInterval` (30 s by default), so the interval is tied to the shortest
 * timeout: a slow client is cut within a quarter of its timeout, at most a second late.
 * @example http.createServer(serverOptionsFor(resolveServerLimits()), handler)
 */
export function serverOptionsFor(limits: ServerLimits): ServerOptions {
  return {
    headersTimeout: limits.headersTimeoutMs,
    requestTimeout: limits.requestTimeoutMs,
    keepAliveTimeout: limits.keepAliveTimeoutMs,
    maxHeaderSize: limits.maxHeaderSize,
    connectionsCheckingInterval: Math.max(25, Math.min(1000, Math.floor(limits.headersTimeoutMs / 4))),
  };
}

/**
 * Applies what cannot be passed to `createServer` (the connection cap) and repeats the rest on
 * the instance, so a server created elsewhere gets the same limits (except the checking interval
 * and the header size, which only `createServer` takes).
 * @example applyServerLimits(server, resolveServerLimits({ maxConnections: 2000 }));
 */
export function applyServerLimits(server: Server, limits: ServerLimits): void {
  server.headersTimeout = limits.headersTimeoutMs;
  server.requestTimeout = limits.requestTimeoutMs;
  server.keepAliveTimeout = limits.keepAliveTimeoutMs;
  server.maxConnections = limits.maxConnections;
}
