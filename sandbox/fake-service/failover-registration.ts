/**
 * `registerService()` across several gateways: stay with one gateway while it answers, move to
 * the next at once when its connection is refused (nobody listens there: a gateway stopping or
 * restarting), or after `switchAfter` consecutive failures of any other kind. With a shared
 * store (Redis, etcd) any gateway serves the same registry, so moving keeps the instance
 * registered: the move never deregisters, the next gateway re-registers the same instance id
 * at once, and heartbeats go on there within the lease. (Deregistering on the way out left a
 * gap in which every other gateway stopped routing to the instance: a draining gateway still
 * answers on its open keep-alive connections.)
 */
import { EventEmitter } from 'node:events';
import {
  type RegisterServiceInput,
  type Registration,
  registerService,
  type ServiceRegistration,
} from '../../lib/client/index.js';

/** Options for {@link FailoverRegistration}. */
export interface FailoverOptions {
  /** Gateway base URLs, in order. */
  gateways: readonly string[];
  /** Which gateway to try first (spreads a fleet over the gateways). @default 0 */
  startIndex: number;
  /** Consecutive heartbeat or registration failures (other than a refused connection) before moving on. @default 2 */
  switchAfter: number;
  /** Everything for `registerService()` except `gateway`. */
  registration: Omit<RegisterServiceInput, 'gateway'>;
}

/** Events of {@link FailoverRegistration}. */
interface FailoverEvents {
  registered: [Registration & { gateway: string }];
  reregistered: [Registration & { gateway: string }];
  'heartbeat-failed': [{ gateway: string; message: string }];
  switched: [{ from: string; to: string }];
}

/**
 * One registration that follows whichever gateway answers.
 * @example
 * const reg = new FailoverRegistration({ gateways: [a, b], registration: { service: 'orders', url } });
 * await reg.ready;
 * await reg.close();
 */
export class FailoverRegistration extends EventEmitter<FailoverEvents> implements AsyncDisposable {
  readonly #o: Omit<FailoverOptions, 'startIndex' | 'switchAfter'> & { switchAfter: number };
  #index: number;
  #handle: ServiceRegistration | undefined;
  #failures = 0;
  #switching: Promise<void> | undefined;
  #closed = false;
  #firstDone = false;
  /** Resolves on the first successful registration with any gateway. */
  readonly ready: Promise<Registration & { gateway: string }>;
  #resolveReady!: (r: Registration & { gateway: string }) => void;

  constructor(options: Partial<FailoverOptions> & Pick<FailoverOptions, 'gateways' | 'registration'>) {
    super();
    if (options.gateways.length === 0) throw new TypeError('FailoverRegistration needs at least one gateway');
    this.#o = { gateways: options.gateways, registration: options.registration, switchAfter: options.switchAfter ?? 2 };
    this.#index = (options.startIndex ?? 0) % options.gateways.length;
    this.ready = new Promise((resolve) => {
      this.#resolveReady = resolve;
    });
    this.#attach();
  }

  /** The gateway currently used. */
  get gateway(): string {
    return this.#o.gateways[this.#index] as string;
  }

  #attach(): void {
    const gateway = this.gateway;
    const handle = registerService({ ...this.#o.registration, gateway });
    this.#handle = handle;
    const ok = (kind: 'registered' | 'reregistered') => (r: Registration) => {
      this.#failures = 0;
      // A move to another gateway registers afresh there, but for the fleet it is a re-registration.
      const event = kind === 'registered' && this.#firstDone ? 'reregistered' : kind;
      this.#firstDone = true;
      this.#resolveReady({ ...r, gateway });
      this.emit(event, { ...r, gateway });
    };
    handle.on('registered', ok('registered'));
    handle.on('reregistered', ok('reregistered'));
    handle.on('heartbeat', () => {
      this.#failures = 0;
    });
    const failed = (err: Error): void => {
      this.emit('heartbeat-failed', { gateway, message: err.message });
      this.#failures++;
      const due = this.#failures >= this.#o.switchAfter || connectionRefused(err);
      if (due && this.#o.gateways.length > 1) void this.#switch();
    };
    handle.on('heartbeat-failed', failed);
    handle.on('registration-failed', failed);
    handle.on('error', failed);
  }

  #switch(): Promise<void> {
    this.#switching ??= (async () => {
      const old = this.#handle;
      const from = this.gateway;
      old?.removeAllListeners();
      // Let go without deregistering: the instance stays in the shared store and the next gateway
      // renews it under the same id (the store lets the same source address take it over).
      await old?.close({ deregister: false });
      if (this.#closed) return;
      this.#index = (this.#index + 1) % this.#o.gateways.length;
      this.#failures = 0;
      this.emit('switched', { from, to: this.gateway });
      this.#attach();
    })().finally(() => {
      this.#switching = undefined;
    });
    return this.#switching;
  }

  /** Deregisters and stops. Idempotent. */
  async close(): Promise<void> {
    this.#closed = true;
    await this.#switching;
    await this.#handle?.close();
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

/** True when the gateway refused the TCP connection (registerService wraps it as ERR_FG_UPSTREAM_CONNECT). */
function connectionRefused(err: Error): boolean {
  return (err.cause as { code?: unknown } | undefined)?.code === 'ECONNREFUSED';
}
