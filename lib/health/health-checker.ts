/**
 * The active health checker: schedules a probe per registered instance on the injectable clock
 * (one shared schedule and timer for all of them, lib/health/probe-schedule.ts),
 * walks each one along the status ladder, and turns transitions into `registry.setStatus` verdicts
 * (which take DOWN instances out of routing and, through the store, reach every gateway).
 * README "Health, metrics, rate limits, tracing"
 */
import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { hostname } from 'node:os';
import { Agent } from 'undici';
import { healthChannel } from '../diagnostics.js';
import { FleetgateError } from '../errors.js';
import type { ServiceInstance } from '../registry/model.js';
import type { RegistryApi, RegistryChange } from '../registry/registry-api.js';
import { inSpan } from '../telemetry/tracing.js';
import { upstreamTlsOptions } from '../upstream/upstream-tls.js';
import { type CheckLease, MemoryCheckLease } from './check-lease.js';
import { type CheckedInstance, keyOf, ladderStatusOf, leaseKey, newEntry, targetOf, view } from './checked-instance.js';
import {
  type HealthCheckerEvents,
  type HealthCheckerOptions,
  type HealthTransition,
  type InstanceHealth,
  resolveHealthCheckOptions,
} from './health-check-options.js';
import { ProbeSchedule } from './probe-schedule.js';
import { createDefaultProbe, type Probe, type ProbeResult, probeWithTimeout } from './probes.js';
import { type LadderState, type LadderStatus, probeDelay, resumeLadder, stepLadder } from './status-ladder.js';

export {
  HEALTH_CHECK_DEFAULTS,
  type HealthCheckerEvents,
  type HealthCheckerOptions,
  type HealthTransition,
  type InstanceHealth,
} from './health-check-options.js';

/**
 * Probes every instance of a registry and keeps their status in line with the results.
 * @example
 * await using checker = new HealthChecker({ registry, logger });
 * checker.start();
 */
export class HealthChecker extends EventEmitter<HealthCheckerEvents> implements AsyncDisposable {
  readonly #registry: RegistryApi;
  readonly #o: HealthCheckerOptions;
  readonly #probe: Probe;
  readonly #lease: CheckLease;
  readonly #holder: string;
  readonly #agent: Agent | undefined;
  readonly #entries = new Map<string, CheckedInstance>();
  readonly #schedule: ProbeSchedule<CheckedInstance>;
  /** Aborted on close, which aborts every in-flight probe. */
  readonly #closing = new AbortController();
  readonly #onChange = (change: RegistryChange): void => this.#handle(change);
  /**
   * A renewal (every heartbeat of the fleet) keeps the registration, so the probe target stays:
   * only an instance whose ladder stopped, or one not held yet, needs the full handling.
   */
  readonly #onRenew = (change: RegistryChange): void => {
    const { service, instanceId } = change;
    if (this.#closed || service === undefined || instanceId === undefined) return;
    const entry = this.#entries.get(keyOf(service, instanceId));
    if (entry === undefined || entry.ladder.stopped) this.#handle(change);
  };
  #started = false;
  #closed = false;
  #leaseFailing = false;

  constructor(options: Partial<HealthCheckerOptions> & { registry: RegistryApi }) {
    super();
    const { registry, ...rest } = options;
    const o = resolveHealthCheckOptions(rest);
    this.#registry = registry;
    this.#o = o;
    if (o.probe === undefined) {
      const tls = upstreamTlsOptions(o.upstreamTls, 'HealthChecker');
      this.#agent = new Agent({
        keepAliveTimeout: 1_000,
        connections: 1,
        ...(tls === undefined ? {} : { connect: tls }),
      });
    }
    this.#probe = o.probe ?? createDefaultProbe(this.#agent);
    this.#lease = o.lease ?? new MemoryCheckLease({ clock: o.clock });
    this.#holder = o.holderId ?? `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
    // With probe periods of 100 s and more, a probe may run up to 1 s (at most 1 % of a period)
    // late, so probes due within the same second share one wake-up (10,000 instances probed
    // hourly: once a second instead of 2.8 times). Shorter periods keep exact times.
    this.#schedule = new ProbeSchedule(
      o.clock,
      (entry) => void this.#tick(entry, entry.generation),
      Math.min(o.intervalMs, o.downIntervalMs) >= 100_000 ? 1000 : 0,
    );
  }

  /** Starts checking every instance in the registry's cache and follows its changes. Idempotent. */
  start(): this {
    if (this.#closed) throw new FleetgateError('ERR_FG_CLOSED', 'health checker is closed');
    if (this.#started) return this;
    this.#started = true;
    this.#registry.on('change', this.#onChange);
    this.#registry.on('renew', this.#onRenew); // a renewal restarts a stopped ladder
    this.#resync();
    return this;
  }

  /** What is known about one instance. */
  get(service: string, instanceId: string): InstanceHealth | undefined {
    const e = this.#entries.get(keyOf(service, instanceId));
    return e === undefined ? undefined : view(e);
  }

  /** What is known about every checked instance. */
  list(): InstanceHealth[] {
    return [...this.#entries.values()].map(view);
  }

  /** Stops every timer and in-flight probe, releases held leases. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#registry.off('change', this.#onChange);
    this.#registry.off('renew', this.#onRenew);
    const releases: Promise<void>[] = [];
    this.#schedule.clear();
    for (const e of this.#entries.values()) {
      if (e.holdsLease && this.#lease.release) {
        releases.push(this.#lease.release(leaseKey(e), this.#holder).catch(() => {}));
      }
    }
    this.#entries.clear();
    this.#closing.abort();
    await Promise.all(releases);
    await this.#agent?.close();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  #handle(change: RegistryChange): void {
    if (this.#closed) return;
    if (change.type === 'resync') {
      this.#resync();
      return;
    }
    if (change.service === undefined || change.instanceId === undefined) return;
    const key = keyOf(change.service, change.instanceId);
    const entry = this.#entries.get(key);
    const inst = change.instance;
    if (change.type === 'deregister' || change.type === 'expire' || inst === undefined) {
      if (entry !== undefined) this.#remove(key, entry);
      return;
    }
    if (entry === undefined) {
      this.#add(inst);
      return;
    }
    entry.target = targetOf(inst);
    if (change.type === 'register' && (inst.epoch !== entry.epoch || entry.ladder.stopped)) {
      // A re-registration is a fresh start: the instance may be a new process.
      entry.epoch = inst.epoch;
      this.#restart(entry, resumeLadder(entry.ladder, ladderStatusOf(inst.status) ?? entry.ladder.status));
    } else if (change.type === 'heartbeat' && entry.ladder.stopped) {
      this.#restart(entry, resumeLadder(entry.ladder));
    } else if (change.type === 'status') {
      // Another gateway's verdict (or our own, echoed back): follow it without re-announcing it.
      const status = ladderStatusOf(inst.status);
      if (status !== undefined && status !== entry.ladder.status) {
        entry.verdictPending = false;
        // Someone changed a stopped instance's status by hand: that is news worth probing again.
        if (entry.ladder.stopped) this.#restart(entry, resumeLadder(entry.ladder, status));
        else
          entry.ladder = {
            ...entry.ladder,
            status,
            consecutiveFailures: status === 'UP' ? 0 : entry.ladder.consecutiveFailures,
          };
      }
    }
  }

  #resync(): void {
    const live = new Set<string>();
    for (const inst of this.#registry.instances()) {
      const key = keyOf(inst.service, inst.instanceId);
      live.add(key);
      const entry = this.#entries.get(key);
      if (entry === undefined) this.#add(inst);
      else entry.target = targetOf(inst);
    }
    for (const [key, entry] of this.#entries) if (!live.has(key)) this.#remove(key, entry);
  }

  #add(inst: ServiceInstance): void {
    const entry = newEntry(inst);
    this.#entries.set(keyOf(inst.service, inst.instanceId), entry);
    this.#restart(entry, entry.ladder);
  }

  #remove(key: string, entry: CheckedInstance): void {
    this.#schedule.cancel(entry);
    entry.generation++;
    this.#entries.delete(key);
    if (entry.holdsLease) void this.#lease.release?.(leaseKey(entry), this.#holder).catch(() => {});
  }

  /** Resets to `ladder` and schedules the first probe at a random point of one period, so probes spread out. */
  #restart(entry: CheckedInstance, ladder: LadderState): void {
    entry.ladder = ladder;
    entry.generation++;
    const period = probeDelay(ladder, this.#o) ?? this.#o.intervalMs;
    this.#schedule.add(entry, Math.floor(this.#o.random() * period));
  }

  #stale(entry: CheckedInstance, generation: number): boolean {
    return (
      this.#closed ||
      entry.generation !== generation ||
      this.#entries.get(keyOf(entry.service, entry.instanceId)) !== entry
    );
  }

  async #tick(entry: CheckedInstance, generation: number): Promise<void> {
    if (this.#stale(entry, generation) || entry.ladder.stopped) return;
    const period = probeDelay(entry.ladder, this.#o) as number;
    if (this.#registry.get(entry.service, entry.instanceId)?.status === 'DRAINING') {
      // Draining is an operator's decision; probing resumes when the status changes.
      return this.#schedule.add(entry, period);
    }
    entry.holdsLease = await this.#acquire(entry, period * 2 + this.#o.timeoutMs);
    if (this.#stale(entry, generation)) return;
    if (!entry.holdsLease) return this.#schedule.add(entry, period);

    const startedAt = this.#o.clock.now();
    const result = await inSpan(
      'fleetgate.health_probe',
      { 'fleetgate.service': entry.service, 'fleetgate.instance': entry.instanceId },
      async (span) => {
        const r = await probeWithTimeout(this.#probe, entry.target, {
          clock: this.#o.clock,
          timeoutMs: this.#o.timeoutMs,
          signal: this.#closing.signal,
        });
        span.setAttribute('fleetgate.healthy', r.healthy);
        if (r.statusCode !== undefined) span.setAttribute('http.response.status_code', r.statusCode);
        return r;
      },
    );
    if (this.#stale(entry, generation)) return;
    entry.lastPing = startedAt;
    entry.responseTimeMs = result.responseTimeMs;
    entry.lastError = result.healthy ? undefined : result.error;
    if (result.healthy) entry.lastSuccess = startedAt;
    this.emit('probe', { service: entry.service, instanceId: entry.instanceId, result });

    const step = stepLadder(entry.ladder, result.healthy, this.#o);
    entry.ladder = step.state;
    if (step.transition !== undefined) this.#transition(entry, step.transition.from, step.transition.to, result);
    else if (entry.verdictPending) this.#publishVerdict(entry);

    if (step.nextDelayMs !== undefined) return this.#schedule.add(entry, step.nextDelayMs);
    this.#o.logger.warn(
      `fleetgate health: ${entry.service}/${entry.instanceId} failed ${step.state.consecutiveFailures} checks in a row; ` +
        'probing stops until it heartbeats or re-registers',
    );
    // Keep the lease so peer gateways do not start the ladder over.
    await this.#acquire(entry, this.#o.stoppedLeaseMs);
  }

  async #acquire(entry: CheckedInstance, ttlMs: number): Promise<boolean> {
    try {
      const ok = await this.#lease.tryAcquire(leaseKey(entry), this.#holder, ttlMs);
      if (this.#leaseFailing) {
        this.#leaseFailing = false;
        this.#o.logger.info('fleetgate health: check lease store answers again');
      }
      return ok;
    } catch (err) {
      // Probing twice beats not probing at all.
      if (!this.#leaseFailing) {
        this.#leaseFailing = true;
        this.#o.logger.warn(`fleetgate health: check lease store failed, probing anyway: ${String(err)}`);
      }
      return true;
    }
  }

  #transition(entry: CheckedInstance, from: LadderStatus, to: LadderStatus, result: ProbeResult): void {
    const t: HealthTransition = {
      service: entry.service,
      instanceId: entry.instanceId,
      from,
      to,
      at: this.#o.clock.now(),
      consecutiveFailures: entry.ladder.consecutiveFailures,
      ...(result.error === undefined ? {} : { error: result.error }),
    };
    entry.history.push(t);
    if (entry.history.length > this.#o.historySize) entry.history.shift();
    const msg = `fleetgate health: ${t.service}/${t.instanceId} ${from} → ${to}`;
    if (to === 'DOWN')
      this.#o.logger.warn(`${msg} after ${t.consecutiveFailures} failed checks (${t.error ?? 'unhealthy'})`);
    else this.#o.logger.info(msg);
    if (healthChannel.hasSubscribers) healthChannel.publish(t);
    this.emit('transition', t);
    this.#publishVerdict(entry);
  }

  #publishVerdict(entry: CheckedInstance): void {
    const status = entry.ladder.status;
    if (status === 'UNKNOWN') return;
    entry.verdictPending = false;
    this.#registry.setStatus(entry.service, entry.instanceId, status).catch((err: unknown) => {
      entry.verdictPending = true;
      this.#o.logger.warn(
        `fleetgate health: could not record ${entry.service}/${entry.instanceId} ${status}, will retry: ${String(err)}`,
      );
    });
  }
}
