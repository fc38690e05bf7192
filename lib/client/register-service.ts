/**
 * `registerService()`: a service joins the fleet, heartbeats, re-registers whenever the gateway
 * forgets it (gateway or store restart), and leaves on shutdown (README "Registration API").
 */
import { EventEmitter } from 'node:events';
import type { TimerHandle } from '../clock.js';
import { FleetgateError, isFleetgateError } from '../errors.js';
import { backoffDelay, jitteredInterval } from './backoff.js';
import { GatewayApi, httpStatusOf, isTransientGatewayError, retryAfterOf } from './gateway-api.js';
import {
  type RegisterServiceInput,
  type ResolvedRegisterServiceOptions,
  resolveRegisterServiceOptions,
} from './register-options.js';
import type { Registration, RegistrationState, ServiceRegistrationEvents } from './registration.js';
import { onTerminationSignal } from './signal-exit.js';

/** Options of {@link ServiceRegistration.close}. */
export interface CloseRegistrationOptions {
  /**
   * Deregister through the gateway before letting go. `false` leaves the instance registered
   * (it expires after its TTL unless heartbeats continue elsewhere). @default true
   */
  deregister?: boolean;
}

/**
 * The handle returned by {@link registerService}. It registers at once and keeps the
 * registration alive until {@link close}; it never throws into the process: failures are
 * events, and a permanent one rejects {@link ready}.
 */
export class ServiceRegistration extends EventEmitter<ServiceRegistrationEvents> implements AsyncDisposable {
  /**
   * Resolves on the first successful registration; rejects when the gateway refuses it for good
   * or when the handle is closed first. Never an unhandled rejection if nobody awaits it.
   */
  readonly ready: Promise<Registration>;

  readonly #o: ResolvedRegisterServiceOptions;
  /** One client per gateway (`gateways`); `#index` is the one in use. */
  readonly #apis: readonly GatewayApi[];
  #index = 0;
  /** Consecutive transient failures with the current gateway. */
  #failures = 0;
  #state: RegistrationState = 'registering';
  #instanceId: string | undefined;
  /** The token of the latest registration; sent with heartbeats, the deregistration and re-registrations. */
  #instanceToken: string | undefined;
  #registration: Registration | undefined;
  #timer: TimerHandle | undefined;
  #attempt = 0;
  #lastOk = 0;
  #readySettled = false;
  #resolveReady!: (r: Registration) => void;
  #rejectReady!: (e: unknown) => void;
  #detachSignals: (() => void) | undefined;
  #closing: Promise<void> | undefined;

  /** Use {@link registerService}. */
  constructor(options: ResolvedRegisterServiceOptions) {
    super();
    this.#o = options;
    this.#instanceId = options.instanceId;
    this.#apis = options.gateways.map(
      (gateway) =>
        new GatewayApi({
          gateway,
          prefix: options.prefix,
          token: options.token,
          serviceKey: options.serviceKey,
          requestTimeoutMs: options.requestTimeoutMs,
          clock: options.clock,
        }),
    );
    this.ready = new Promise<Registration>((resolve, reject) => {
      this.#resolveReady = resolve;
      this.#rejectReady = reject;
    });
    // Marks the promise handled: a service that never awaits `ready` must not crash on a rejection.
    this.ready.catch(() => {});
    if (options.handleSignals) {
      this.#detachSignals = onTerminationSignal(() => this.close(), {
        timeoutMs: options.requestTimeoutMs,
        clock: options.clock,
        logger: options.logger,
      });
    }
    void this.#register();
  }

  /** The instance id: known at once when given as an option, otherwise after the first registration. */
  get instanceId(): string | undefined {
    return this.#instanceId;
  }

  /** The gateway in use now (one of `gateways`). */
  get gateway(): string {
    return this.#o.gateways[this.#index] as string;
  }

  get #api(): GatewayApi {
    return this.#apis[this.#index] as GatewayApi;
  }

  /**
   * Counts a transient failure of the gateway itself (no answer, timeout, 5xx); after `switchAfter`
   * in a row, or at once when the connection is refused, moves to the next gateway (when there is
   * one) and says so. Moving never deregisters: the next gateway renews the same id. True when it moved. A 408
   * or 429 is a live gateway asking us to wait, not a reason to move a whole fleet onto its peers.
   */
  #noteFailure(error: FleetgateError): boolean {
    const status = httpStatusOf(error);
    if (status !== undefined && status < 500) return false;
    this.#failures++;
    // Nobody listens there (a gateway stopping or restarting): move at once. A draining gateway
    // still answers on open connections, so waiting would only run the lease down elsewhere.
    const refused = (error.cause as { code?: unknown } | undefined)?.code === 'ECONNREFUSED';
    if ((this.#failures < this.#o.switchAfter && !refused) || this.#apis.length < 2) return false;
    const from = this.gateway;
    this.#failures = 0;
    this.#index = (this.#index + 1) % this.#apis.length;
    this.#o.logger.warn(
      `fleetgate client: ${from} failed ${this.#o.switchAfter} times in a row; moving to ${this.gateway}`,
    );
    this.#emit('switched', { from, to: this.gateway });
    return true;
  }

  /** The latest confirmed registration, if any. */
  get registration(): Registration | undefined {
    return this.#registration;
  }

  /** Where the handle is in its life. */
  get state(): RegistrationState {
    return this.#state;
  }

  /**
   * Stops every timer, aborts requests in flight, deregisters (best effort, bounded by
   * `requestTimeoutMs`) and releases every socket. Idempotent (the first call's options win);
   * never rejects. With `{ deregister: false }` the instance is left registered: for a caller
   * that hands it over to another gateway of the same store and keeps heartbeating there.
   * @example await handle.close(); // leave the fleet
   * @example await handle.close({ deregister: false }); // stop this handle, stay registered
   */
  close(options: CloseRegistrationOptions = {}): Promise<void> {
    this.#closing ??= this.#close(options.deregister ?? true);
    return this.#closing;
  }

  /** Same as {@link close}, for `await using`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  async #close(deregister: boolean): Promise<void> {
    const failedBeforeRegistering = this.#state === 'failed' && this.#registration === undefined;
    this.#state = 'closed';
    this.#timer?.cancel();
    this.#timer = undefined;
    this.#detachSignals?.();
    for (const api of this.#apis) api.abortAll();
    this.#settleReady(
      new FleetgateError('ERR_FG_CLOSED', 'registerService handle closed before the first registration'),
    );
    // The gateway may hold the instance even if we never saw the reply (a user-given id, a
    // registration aborted mid-flight), so a known id is deregistered unless it was refused outright.
    const id = this.#instanceId;
    if (deregister && id !== undefined && !failedBeforeRegistering) {
      try {
        const known = await this.#api.deregister(this.#o.service, id, this.#instanceToken);
        this.#o.logger.info(
          `fleetgate client: ${this.#o.service}/${id} ${known ? 'deregistered' : 'was not registered'}`,
        );
      } catch (err) {
        this.#o.logger.warn(`fleetgate client: deregistering ${this.#o.service}/${id} failed: ${messageOf(err)}`);
      }
    }
    await Promise.all(this.#apis.map((api) => api.close()));
  }

  async #register(): Promise<void> {
    if (this.#state === 'closed' || this.#state === 'failed') return;
    this.#state = 'registering';
    const o = this.#o;
    try {
      const reply = await this.#api.register(
        {
          service: o.service,
          url: o.url,
          instanceId: this.#instanceId,
          healthEndpoint: o.healthEndpoint,
          routes: o.routes,
          weight: o.weight,
          version: o.version,
          zone: o.zone,
          metadata: o.metadata,
        },
        this.#instanceToken,
      );
      if (this.#isClosed()) return;
      const ttlMs = reply.ttlMs ?? o.ttlMs;
      const registration: Registration = {
        service: reply.service,
        instanceId: reply.instanceId,
        ttlMs,
        heartbeatIntervalMs: reply.heartbeatIntervalMs ?? Math.max(1, Math.floor(ttlMs / 3)),
        epoch: reply.epoch,
        registeredAt: o.clock.now(),
      };
      const first = this.#registration === undefined;
      this.#instanceId = reply.instanceId;
      this.#instanceToken = reply.instanceToken;
      this.#registration = registration;
      this.#state = 'registered';
      this.#attempt = 0;
      this.#failures = 0;
      this.#lastOk = registration.registeredAt;
      this.#settleReady(undefined, registration);
      this.#scheduleHeartbeat(0);
      o.logger.info(
        `fleetgate client: ${first ? 'registered' : 're-registered'} ${o.service}/${reply.instanceId}` +
          (reply.epoch === undefined ? '' : ` (epoch ${reply.epoch})`),
      );
      this.#emit(first ? 'registered' : 'reregistered', registration);
    } catch (err) {
      if (this.#isClosed()) return;
      const error = asFleetgateError(err);
      if (!isTransientGatewayError(error)) {
        this.#fail(error);
        return;
      }
      // Another gateway is tried at once; the same one after the backoff (and its Retry-After).
      const moved = this.#noteFailure(error);
      const delay = moved
        ? 0
        : Math.max(backoffDelay(this.#attempt, this.#retryBackoff(), o.random), retryAfterOf(error) ?? 0);
      this.#attempt++;
      o.logger.warn(`fleetgate client: registering ${o.service} failed (${error.message}); retry in ${delay} ms`);
      this.#emit('registration-failed', error, { attempt: this.#attempt, retryInMs: delay });
      this.#setTimer(() => void this.#register(), delay);
    }
  }

  async #heartbeat(): Promise<void> {
    const id = this.#instanceId;
    if (this.#state !== 'registered' || id === undefined) return;
    const o = this.#o;
    try {
      await this.#api.heartbeat(o.service, id, this.#instanceToken);
      if (this.#state !== 'registered') return;
      this.#lastOk = o.clock.now();
      this.#failures = 0;
      this.#scheduleHeartbeat(0);
      this.#emit('heartbeat', { instanceId: id, at: this.#lastOk });
    } catch (err) {
      if (this.#state !== 'registered') return;
      const error = asFleetgateError(err);
      if (httpStatusOf(error) === 404) {
        // The gateway forgot us (restart, store flush, expiry): come back at once with the same id.
        o.logger.info(`fleetgate client: gateway does not know ${o.service}/${id}; re-registering`);
        void this.#register();
        return;
      }
      this.#emit('heartbeat-failed', error);
      if (this.#noteFailure(error)) {
        // The new gateway shares the store (or learns of us now): re-register there, same id and token.
        void this.#register();
        return;
      }
      if (o.clock.now() - this.#lastOk >= (this.#registration?.ttlMs ?? o.ttlMs)) {
        // The lease has lapsed, so heartbeats can only earn 404s: register (with backoff) instead.
        o.logger.warn(`fleetgate client: no heartbeat accepted within the TTL; re-registering ${o.service}/${id}`);
        this.#attempt = 0;
        void this.#register();
        return;
      }
      this.#scheduleHeartbeat(retryAfterOf(error) ?? 0);
    }
  }

  /** A method, not an inline comparison: the state changes across awaits, which TS narrowing ignores. */
  #isClosed(): boolean {
    return this.#state === 'closed';
  }

  #scheduleHeartbeat(atLeastMs: number): void {
    const interval = this.#registration?.heartbeatIntervalMs ?? this.#o.ttlMs / 3;
    const delay = Math.max(atLeastMs, jitteredInterval(interval, this.#o.jitter, this.#o.random));
    this.#setTimer(() => void this.#heartbeat(), delay);
  }

  /**
   * Before the first registration the full backoff applies; once registered, waits are capped at
   * the heartbeat interval, so a restarted gateway hears from every instance within one interval
   * (and the fleet's retry rate never exceeds its normal heartbeat rate).
   */
  #retryBackoff(): ResolvedRegisterServiceOptions['backoff'] {
    const b = this.#o.backoff;
    const interval = this.#registration?.heartbeatIntervalMs;
    if (interval === undefined || interval >= b.maxMs) return b;
    return { ...b, maxMs: Math.max(interval, 1), initialMs: Math.min(b.initialMs, Math.max(interval, 1)) };
  }

  #setTimer(fn: () => void, ms: number): void {
    this.#timer?.cancel();
    this.#timer = this.#o.clock.setTimeout(() => {
      this.#timer = undefined;
      fn();
    }, ms);
  }

  #fail(error: FleetgateError): void {
    this.#state = 'failed';
    this.#timer?.cancel();
    this.#timer = undefined;
    this.#settleReady(error);
    if (this.listenerCount('error') > 0) this.#emit('error', error);
    else this.#o.logger.error(`fleetgate client: gateway refused ${this.#o.service} for good: ${error.message}`);
  }

  #settleReady(error: unknown, registration?: Registration): void {
    if (this.#readySettled) return;
    this.#readySettled = true;
    if (registration !== undefined) this.#resolveReady(registration);
    else this.#rejectReady(error);
  }

  /** A throwing listener is the user's bug; it must not derail heartbeats. */
  #emit<K extends keyof ServiceRegistrationEvents>(event: K, ...args: ServiceRegistrationEvents[K]): void {
    try {
      (this.emit as (e: string, ...a: unknown[]) => boolean)(event, ...args);
    } catch (err) {
      this.#o.logger.error(`fleetgate client: a '${String(event)}' listener threw: ${messageOf(err)}`);
    }
  }
}

/**
 * Registers this process as an instance of `service` with the gateway and keeps it registered.
 * Returns at once, without waiting for the gateway (a service must start even while its gateway
 * is down); await `handle.ready` to wait for the first registration.
 *
 * @throws FleetgateError `ERR_FG_INVALID_CONFIG` for invalid options (synchronously).
 * @example
 * import { registerService } from 'fleetgate/client';
 * const handle = registerService({
 *   gateway: 'http://127.0.0.1:8080',
 *   service: 'sagjan',
 *   url: 'http://127.0.0.1:7812',
 *   routes: [{ method: 'GET', path: '/api/comments/*' }],
 *   handleSignals: true,
 * });
 * handle.on('reregistered', (r) => console.log('back in the fleet, epoch', r.epoch));
 * await handle.ready;
 * // ... on shutdown:
 * await handle.close();
 */
export function registerService(options: RegisterServiceInput): ServiceRegistration {
  return new ServiceRegistration(resolveRegisterServiceOptions(options));
}

function asFleetgateError(err: unknown): FleetgateError {
  if (isFleetgateError(err)) return err;
  return new FleetgateError('ERR_FG_UPSTREAM_CONNECT', messageOf(err), { cause: err, details: { transient: true } });
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
