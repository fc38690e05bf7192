/**
 * The running fleet: gateways and fake service instances as supervised children, plus the
 * store. The single owner of every child; the CLI commands, the drills and the dashboard act
 * through it (via the control API), never on pids of their own.
 */
import { FleetgateError } from '../lib/errors.js';
import type { EventLog } from './event-log.js';
import type { FakeServiceMessage } from './fake-service/main.js';
import { launchGateway, launchInstance } from './fleet-children.js';
import { type Fleet, type FleetService, instanceName } from './fleet-file.js';
import {
  blankUnit,
  type GatewayUnit,
  type InstanceUnit,
  record,
  resolveTargets,
  unknownTarget,
} from './fleet-units.js';
import type { RunningStore } from './infra/store.js';
import type { ProcessRecord, SandboxBackend } from './state-file.js';
import type { ManagedChild } from './supervisor.js';

/** A finished start-up step, for the progress lines of `up`. */
export interface ProgressStep {
  name: string;
  detail: string;
  ms: number;
}

/** Options for {@link FleetRunner}. */
export interface FleetRunnerOptions {
  fleet: Fleet;
  backend: SandboxBackend;
  /** How many gateways (1 with the memory backend). */
  gateways: number;
  /** The store, already running; absent for memory. Closed by {@link FleetRunner.stop}. */
  store: RunningStore | undefined;
  logDir: string;
  events: EventLog;
  /** Called after each start-up step. */
  onProgress?: (step: ProgressStep) => void;
  /** Called whenever a pid, port or status changed (the state file is rewritten). */
  onChange?: () => void;
}

/** SIGTERM → SIGKILL grace when stopping a child. */
const STOP_GRACE_MS = 4000;

/**
 * Starts and supervises a fleet.
 * @example
 * const runner = new FleetRunner({ fleet, backend: 'memory', gateways: 1, store: undefined, logDir, events });
 * await runner.start();
 * await runner.crash('orders-1');
 * await runner.stop();
 */
export class FleetRunner {
  readonly #o: FleetRunnerOptions;
  readonly #gateways: GatewayUnit[] = [];
  readonly #instances = new Map<string, InstanceUnit>();
  #stopping = false;

  constructor(options: FleetRunnerOptions) {
    this.#o = options;
    for (let i = 1; i <= options.gateways; i++) {
      const port = options.fleet.gateway.port === 0 ? undefined : options.fleet.gateway.port + i - 1;
      this.#gateways.push({ ...blankUnit(`gateway-${i}`, i), role: 'gateway', port });
    }
    for (const service of options.fleet.services) {
      for (let i = 1; i <= service.instances; i++) this.#addInstance(service, i);
    }
  }

  /** Base URLs of the gateways that have started. */
  get gatewayUrls(): string[] {
    return this.#gateways.flatMap((g) => (g.url === undefined ? [] : [g.url]));
  }

  /** Starts the gateways, then every instance (in parallel). Throws (after stopping what started) on failure. */
  async start(): Promise<void> {
    try {
      for (const g of this.#gateways) await this.#startGateway(g);
      await Promise.all([...this.#instances.values()].map((u) => this.#startInstance(u)));
    } catch (err) {
      await this.stop();
      throw err;
    }
  }

  /** Every process, for the state file and `status`. */
  records(): ProcessRecord[] {
    const out: ProcessRecord[] = [];
    const store = this.#o.store;
    if (store !== undefined) {
      out.push({
        role: 'store',
        name: store.backend,
        url: store.url,
        status: store.running ? 'running' : 'stopped',
        ...(store.pids()[0] === undefined ? {} : { pid: store.pids()[0] }),
      });
    }
    for (const g of this.#gateways) out.push(record('gateway', g));
    const order = this.#o.fleet.services.map((s) => s.name);
    const units = [...this.#instances.values()].sort(
      (a, b) => order.indexOf(a.service.name) - order.indexOf(b.service.name) || a.index - b.index,
    );
    for (const u of units) out.push({ ...record('service', u), service: u.service.name });
    return out;
  }

  /**
   * kill -9: an instance, one instance of a service (`all` for every one), or a gateway. Unless
   * `hold`, crashed instances come back after the fleet's restart delay (when it says so).
   * Resolves the names crashed.
   */
  async crash(target: string, options: { hold?: boolean; all?: boolean } = {}): Promise<string[]> {
    const units = resolveTargets(target, this.#gateways, this.#instances, {
      onePerService: !options.all,
      hasStore: this.#o.store !== undefined,
      fleet: this.#o.fleet,
    }).filter((u) => u.child?.running);
    if (units.length === 0) throw new FleetgateError('ERR_FG_NOT_FOUND', `nothing of ${target} is running to crash`);
    await Promise.all(
      units.map(async (u) => {
        clearTimeout(u.restartTimer);
        await u.child?.kill();
        u.status = 'crashed';
        const comeBack = !options.hold && this.#o.fleet.supervisor.restartCrashed;
        this.#o.events.add({
          kind: 'action',
          target: u.name,
          level: 'bad',
          message: `crashed (kill -9)${comeBack ? `; restarts in ${this.#o.fleet.supervisor.restartDelayMs} ms` : '; held down'}`,
        });
        if (comeBack) this.#scheduleRestart(u);
      }),
    );
    this.#changed();
    return units.map((u) => u.name);
  }

  /**
   * Restarts an instance, a service's instances, a gateway, every gateway (`gateway`) or the
   * store (`store`); several targets restart one after another. Resolves the names restarted.
   */
  async restart(target: string): Promise<string[]> {
    if (target === 'store') {
      await this.stopStore();
      await this.startStore();
      return ['store'];
    }
    // One at a time (rolling): a service or the gateway tier keeps serving meanwhile.
    const units = resolveTargets(target, this.#gateways, this.#instances, {
      onePerService: false,
      hasStore: this.#o.store !== undefined,
      fleet: this.#o.fleet,
    });
    for (const u of units) await this.#restartUnit(u);
    return units.map((u) => u.name);
  }

  /** Adds or removes (gracefully, highest index first) instances of a service until it has `count`. */
  async scale(serviceName: string, count: number): Promise<{ started: string[]; stopped: string[] }> {
    const service = this.#o.fleet.services.find((s) => s.name === serviceName);
    if (service === undefined)
      throw unknownTarget(serviceName, this.#gateways, this.#instances, this.#o.store !== undefined, this.#o.fleet);
    if (!Number.isInteger(count) || count < 0 || count > 50)
      throw new FleetgateError('ERR_FG_INVALID_CONFIG', `scale: count must be an integer from 0 to 50, got ${count}`);
    const current = [...this.#instances.values()]
      .filter((u) => u.service.name === serviceName)
      .sort((a, b) => a.index - b.index);
    const started: string[] = [];
    const stopped: string[] = [];
    if (count > current.length) {
      let next = (current.at(-1)?.index ?? 0) + 1;
      const added: InstanceUnit[] = [];
      while (current.length + added.length < count) added.push(this.#addInstance(service, next++));
      await Promise.all(added.map((u) => this.#startInstance(u)));
      started.push(...added.map((u) => u.name));
    } else {
      for (const u of current.slice(count).reverse()) {
        clearTimeout(u.restartTimer);
        await u.child?.stop(STOP_GRACE_MS);
        this.#instances.delete(u.name);
        stopped.push(u.name);
      }
    }
    this.#o.events.add({
      kind: 'action',
      target: serviceName,
      level: 'info',
      message: `scaled to ${count}${started.length ? ` (+${started.join(', ')})` : ''}${stopped.length ? ` (-${stopped.join(', ')})` : ''}`,
    });
    this.#changed();
    return { started, stopped };
  }

  /** Takes the store away (outage). */
  async stopStore(): Promise<void> {
    const store = this.#requireStore();
    await store.stop();
    this.#o.events.add({ kind: 'action', target: 'store', level: 'bad', message: `${store.backend} stopped (outage)` });
    this.#changed();
  }

  /** Brings the store back on the same address. */
  async startStore(): Promise<void> {
    const store = this.#requireStore();
    const t0 = Date.now();
    await store.start();
    this.#o.events.add({
      kind: 'action',
      target: 'store',
      level: 'good',
      message: `${store.backend} back (${Date.now() - t0} ms)`,
    });
    this.#changed();
  }

  /** Wipes every registration from the store (instances must re-register). */
  async flushStore(): Promise<void> {
    const store = this.#requireStore();
    await store.flush();
    this.#o.events.add({
      kind: 'action',
      target: 'store',
      level: 'warn',
      message: `${store.backend} flushed (all registrations deleted)`,
    });
  }

  /** Stops instances (they deregister), then gateways, then the store. Idempotent. */
  async stop(): Promise<void> {
    this.#stopping = true;
    const all = [...this.#instances.values(), ...this.#gateways];
    for (const u of all) clearTimeout(u.restartTimer);
    await Promise.all([...this.#instances.values()].map((u) => u.child?.stop(STOP_GRACE_MS)));
    await Promise.all(this.#gateways.map((u) => u.child?.stop(STOP_GRACE_MS)));
    for (const u of all) u.status = 'stopped';
    await this.#o.store?.close();
  }

  #requireStore(): RunningStore {
    const store = this.#o.store;
    if (store === undefined)
      throw new FleetgateError(
        'ERR_FG_NOT_FOUND',
        'the memory backend has no store: each gateway keeps its own registry',
      );
    return store;
  }

  #addInstance(service: FleetService, index: number): InstanceUnit {
    const unit: InstanceUnit = { ...blankUnit(instanceName(service.name, index), index), role: 'service', service };
    this.#instances.set(unit.name, unit);
    return unit;
  }

  async #restartUnit(u: GatewayUnit | InstanceUnit): Promise<void> {
    clearTimeout(u.restartTimer);
    u.restartTimer = undefined;
    const t0 = Date.now();
    u.status = 'restarting';
    this.#changed();
    await u.child?.stop(STOP_GRACE_MS);
    if (u.role === 'gateway') await this.#startGateway(u, false);
    else await this.#startInstance(u, false);
    this.#o.events.add({
      kind: 'action',
      target: u.name,
      level: 'good',
      message: `restarted in ${Date.now() - t0} ms${u.url ? ` at ${u.url}` : ''}`,
    });
  }

  #scheduleRestart(u: GatewayUnit | InstanceUnit): void {
    clearTimeout(u.restartTimer);
    u.restartTimer = setTimeout(() => {
      u.restartTimer = undefined;
      if (this.#stopping || u.child?.running) return;
      this.#restartUnit(u).catch((err: unknown) =>
        this.#o.events.add({
          kind: 'error',
          target: u.name,
          level: 'bad',
          message: `restart failed: ${messageOf(err)}`,
        }),
      );
    }, this.#o.fleet.supervisor.restartDelayMs);
  }

  #watchExit(u: GatewayUnit | InstanceUnit, child: ManagedChild): void {
    child.on('exit', (exit) => {
      if (u.child !== child) return;
      if (exit.requested || this.#stopping) return;
      u.status = 'crashed';
      const comeBack = this.#o.fleet.supervisor.restartCrashed;
      this.#o.events.add({
        kind: 'process',
        target: u.name,
        level: 'bad',
        message: `exited on its own (${exit.signal ?? `code ${exit.code}`})${comeBack ? `; restarts in ${this.#o.fleet.supervisor.restartDelayMs} ms` : ''}`,
      });
      this.#changed();
      if (comeBack) this.#scheduleRestart(u);
    });
  }

  async #startGateway(g: GatewayUnit, report = true): Promise<void> {
    const t0 = Date.now();
    g.status = 'starting';
    const { child, url, port } = await launchGateway({
      name: g.name,
      port: g.port,
      fleet: this.#o.fleet,
      store: this.#o.store,
      logDir: this.#o.logDir,
      attach: (c) => {
        g.child = c;
        this.#watchExit(g, c);
      },
    });
    g.url = url;
    g.port = port;
    g.status = 'running';
    this.#changed();
    if (report) this.#o.onProgress?.({ name: g.name, detail: `${url} (pid ${child.pid})`, ms: Date.now() - t0 });
  }

  async #startInstance(u: InstanceUnit, report = true): Promise<void> {
    const t0 = Date.now();
    u.status = 'starting';
    const { child, url, port } = await launchInstance({
      name: u.name,
      index: u.index,
      service: u.service,
      gateways: this.gatewayUrls,
      logDir: this.#o.logDir,
      attach: (c) => {
        u.child = c;
        this.#watchExit(u, c);
        c.on('message', (m) => this.#onInstanceMessage(u, m as FakeServiceMessage));
      },
    });
    u.port = port;
    u.url = url;
    u.status = 'running';
    this.#changed();
    if (report) this.#o.onProgress?.({ name: u.name, detail: `${url} (pid ${child.pid})`, ms: Date.now() - t0 });
  }

  #onInstanceMessage(u: InstanceUnit, msg: FakeServiceMessage): void {
    if (msg.type === 'listening') {
      u.port = msg.port;
      u.url = msg.url;
      this.#changed();
    } else if (msg.type === 'reregistered') {
      const epoch = msg.epoch === undefined ? '' : ` (epoch ${msg.epoch})`;
      this.#o.events.add({
        kind: 'registry',
        target: u.name,
        level: 'good',
        message: `re-registered with ${msg.gateway}${epoch}`,
      });
    } else if (msg.type === 'switched') {
      this.#o.events.add({
        kind: 'registry',
        target: u.name,
        level: 'warn',
        message: `moved from ${msg.from} to ${msg.to}`,
      });
    }
  }

  #changed(): void {
    this.#o.onChange?.();
  }
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
