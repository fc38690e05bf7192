/**
 * `apiKeys()`: the gateway checks API keys (furt #118: "Auth happens in furt (API-Key
 * validation)"; the service receives `api_key_name`). A key is read from `X-API-Key` or
 * `Authorization: ApiKey …`, hashed, looked up by its SHA-256 and confirmed in constant time;
 * the matched route's `permission` (the one route `resolveIncoming()` shares with the proxy) must
 * be granted. The upstream gets `X-Api-Key-Name` and never the key.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { removeRequestHeader, setRequestHeader } from '../core/request-headers.js';
import type { FleetgateError } from '../errors.js';
import { lookupOf, resolveIncoming } from '../routing/request-resolution.js';
import { presentedKey } from './api-key-credential.js';
import { loadApiKeyFile } from './api-key-file.js';
import { type ApiKeyRecord, grants } from './api-key-spec.js';
import { type ApiKeysOptions, resolveApiKeysOptions } from './api-keys-options.js';
import { authUnavailable, forbidden, quoted, sendAuthError, unauthenticated } from './auth-errors.js';
import { authRejectionOf } from './auth-metrics-sink.js';
import { FailedAttempts, tooManyFailures } from './failed-attempts.js';
import type { KeyStore } from './key-store.js';
import { MemoryKeyStore } from './memory-key-store.js';

type Next = (err?: unknown) => void;

/** Who a request authenticated as, for later middlewares (`rateLimit()` keyed by class, logs). */
export interface ApiKeyIdentity {
  /** The key's name. */
  readonly name: string;
  /** Permissions the key grants. */
  readonly permissions: readonly string[];
  /** The key's rate-limit class, if any. */
  readonly rateLimitClass: string | undefined;
}

/** The middleware returned by {@link apiKeys}. */
export interface ApiKeysMiddleware extends AsyncDisposable {
  (req: IncomingMessage, res: ServerResponse, next: Next): void;
  /** Closes what the middleware created (its failure counter's store); never a passed-in `store`. */
  close(): Promise<void>;
}

const identities = new WeakMap<IncomingMessage, ApiKeyIdentity>();
const digests = new WeakMap<ApiKeyRecord, Buffer>();

/** A record's digest as bytes, decoded once per record. */
function digestOf(record: ApiKeyRecord): Buffer {
  let d = digests.get(record);
  if (d === undefined) {
    d = Buffer.from(record.sha256, 'hex');
    digests.set(record, d);
  }
  return d;
}

/**
 * The key a request authenticated with, once `apiKeys()` let it through.
 * @example rateLimit({ key: (req) => `class:${apiKeyOf(req)?.rateLimitClass ?? 'anonymous'}`, limit: 100, window: '1m' })
 */
export function apiKeyOf(req: IncomingMessage): ApiKeyIdentity | undefined {
  return identities.get(req);
}

type Lookup = ApiKeyRecord | undefined | Promise<ApiKeyRecord | undefined>;

/**
 * Creates the API-key middleware.
 * @example
 * const proxy = discoveryProxy({ registry: reg });
 * app.use(apiKeys({ file: 'api-keys.yaml', routes: proxy }));
 * app.use(proxy);
 * @throws FleetgateError `ERR_FG_INVALID_CONFIG` on invalid options or key file.
 */
export function apiKeys(options: Partial<ApiKeysOptions> = {}): ApiKeysMiddleware {
  const o = resolveApiKeysOptions(options);
  const local = new MemoryKeyStore([...o.keys, ...(o.file === undefined ? [] : loadApiKeyFile(o.file))]);
  const shared: KeyStore | undefined = o.store;
  const scheme = typeof options.authorizationScheme === 'string' ? options.authorizationScheme : 'ApiKey';
  const challenge = `${scheme} realm=${quoted(o.realm)}`;
  const attempts =
    o.failedAttempts === false
      ? undefined
      : new FailedAttempts(o.failedAttempts, {
          clock: o.clock,
          trustProxy: o.trustProxy,
          namespace: 'apikey',
          logger: o.logger,
          source: 'apiKeys',
        });

  const metrics = o.metrics;
  const refuse = (res: ServerResponse, error: FleetgateError): void => {
    sendAuthError(res, error, error.status === 401 ? challenge : undefined);
    metrics?.recordAuthRejection?.(authRejectionOf('api_key', error));
  };

  const fail = (req: IncomingMessage, res: ServerResponse, error: FleetgateError, who: string | undefined): void => {
    if (attempts === undefined) {
      refuse(res, error);
      return;
    }
    attempts.recordFailure(who ?? attempts.keyOf(req)).then(
      (blockedMs) => refuse(res, blockedMs > 0 ? tooManyFailures(blockedMs) : error),
      () => refuse(res, error),
    );
  };

  const admit = (
    req: IncomingMessage,
    res: ServerResponse,
    next: Next,
    found: ApiKeyRecord | undefined,
    digest: Buffer,
    from: 'header' | 'authorization',
    permission: string | undefined,
    who: string | undefined,
  ): void => {
    // The lookup was by digest; confirming the digest in constant time keeps a store that
    // answered for a different key (a bug, a hash-map collision) from letting a request in.
    const stored = found === undefined ? undefined : digestOf(found);
    if (found === undefined || stored === undefined || stored.length !== 32 || !timingSafeEqual(stored, digest)) {
      fail(req, res, unauthenticated('the API key is not valid', 'unknown'), who);
      return;
    }
    if (found.expiresAt !== undefined && o.clock.now() >= found.expiresAt) {
      fail(req, res, unauthenticated('the API key has expired', 'expired'), who);
      return;
    }
    if (permission !== undefined && !grants(found.permissions, permission)) {
      refuse(res, forbidden(`the API key does not grant ${permission}`, { permission }, found.name));
      return;
    }
    if (o.stripCredential) {
      if (from === 'header' && o.header !== false) removeRequestHeader(req, o.header);
      else removeRequestHeader(req, 'authorization');
    }
    if (o.nameHeader !== false) setRequestHeader(req, o.nameHeader, found.name);
    identities.set(req, { name: found.name, permissions: found.permissions, rateLimitClass: found.rateLimitClass });
    next();
  };

  const lookup = (digestHex: string): Lookup => {
    const hit = local.lookup(digestHex);
    if (hit !== undefined || shared === undefined) return hit;
    return shared.lookup(digestHex);
  };

  const middleware = (req: IncomingMessage, res: ServerResponse, next: Next): void => {
    // Whatever happens next, the upstream must never see a name the client wrote itself.
    if (o.nameHeader !== false && req.headers[o.nameHeader] !== undefined) removeRequestHeader(req, o.nameHeader);
    let permission: string | undefined;
    if (o.routes !== undefined) {
      const table = lookupOf(o.routes);
      if (table === undefined) {
        refuse(res, authUnavailable('the route table is not ready; permissions cannot be checked yet'));
        return;
      }
      const resolved = resolveIncoming(table, req);
      if (resolved.kind === 'route') permission = resolved.match.route.permission;
    }
    const presented = presentedKey(req, o.header, o.authorizationScheme);
    if (presented.state === 'none') {
      if (o.required || permission !== undefined) refuse(res, unauthenticated('an API key is required', 'missing'));
      else next();
      return;
    }
    // The address is found only when something is blocked or a failure must be counted.
    let who: string | undefined;
    if (attempts?.anyBlocked === true) {
      who = attempts.keyOf(req);
      const blockedMs = attempts.blockedFor(who);
      if (blockedMs > 0) {
        refuse(res, tooManyFailures(blockedMs));
        return;
      }
    }
    if (presented.state === 'malformed') {
      const why = presented.reason === 'too-large' ? 'the API key is too long' : 'the API key is malformed';
      fail(req, res, unauthenticated(why, presented.reason), who);
      return;
    }
    const digest = createHash('sha256').update(presented.key, 'utf8').digest();
    const digestHex = digest.toString('hex');
    let found: Lookup;
    try {
      found = lookup(digestHex);
    } catch (err) {
      o.logger.error(`fleetgate apiKeys: ${shared?.name ?? 'key'} store failed: ${String(err)}`);
      refuse(res, authUnavailable('the API key store is unavailable', err));
      return;
    }
    if (!(found instanceof Promise)) {
      admit(req, res, next, found, digest, presented.from, permission, who);
      return;
    }
    let settled = false;
    const timer = o.clock.setTimeout(() => {
      if (settled) return;
      settled = true;
      o.logger.warn(`fleetgate apiKeys: ${shared?.name} store gave no answer within ${o.storeTimeoutMs} ms`);
      refuse(res, authUnavailable('the API key store did not answer in time'));
    }, o.storeTimeoutMs);
    found.then(
      (record) => {
        if (settled) return;
        settled = true;
        timer.cancel();
        admit(req, res, next, record, digest, presented.from, permission, who);
      },
      (err: unknown) => {
        if (settled) return;
        settled = true;
        timer.cancel();
        o.logger.error(`fleetgate apiKeys: ${shared?.name} store failed: ${String(err)}`);
        refuse(res, authUnavailable('the API key store is unavailable', err));
      },
    );
  };

  const close = async (): Promise<void> => {
    await attempts?.close();
  };
  return Object.assign(middleware, { close, [Symbol.asyncDispose]: close });
}
