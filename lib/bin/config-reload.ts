/**
 * Reloads `fleetgate.yaml` on SIGHUP and when the file changes, without dropping a connection:
 * the new file is read, validated and built into a policy while the old one keeps serving; only
 * then are the static routes and the middleware chain swapped (one assignment each). Requests
 * already inside the old chain finish there. An invalid file changes nothing and is logged with
 * the reason (line and key). The old policy is closed a little later, once its requests are done.
 */
import { type FSWatcher, watch } from 'node:fs';
import { basename, dirname } from 'node:path';
import type { Clock, TimerHandle } from '../clock.js';
import type { ConfigFile } from '../config/file/config-schema.js';
import { restartOnlyChanges } from '../config/file/env-overlay.js';
import { loadConfigFile } from '../config/file/load-config-file.js';
import type { Middleware } from '../http/compose.js';
import type { Logger } from '../logger.js';
import type { ConfigPolicy } from './config-policy.js';

/** What the reloader needs. */
export interface ConfigReloaderOptions {
  path: string;
  /** The configuration and policy in force at start. */
  initial: { config: ConfigFile; policy: ConfigPolicy };
  /** Builds a policy (throws `ERR_FG_INVALID_CONFIG` when the file is valid YAML but not a valid configuration). */
  build(config: ConfigFile): ConfigPolicy;
  /** Installs a policy's static routes (throws, installing nothing, when one is invalid). */
  applyRoutes(policy: ConfigPolicy): void;
  clock: Clock;
  logger: Logger;
  /** How long a replaced policy lives on for requests already in it. @default 30000 */
  retireAfterMs?: number;
}

/** The outcome of one reload. */
export type ReloadResult = { ok: true; parts: readonly string[] } | { ok: false; reason: string };

/**
 * Holds the policy in force and swaps it on reload.
 * @example
 * const reloader = new ConfigReloader({ path, initial, build, applyRoutes, clock, logger });
 * gatewayMiddlewares.push(reloader.middleware);
 * process.on('SIGHUP', () => reloader.reload('SIGHUP'));
 */
export class ConfigReloader {
  readonly #opts: ConfigReloaderOptions;
  #config: ConfigFile;
  #policy: ConfigPolicy;
  #watcher: FSWatcher | undefined;
  #debounce: TimerHandle | undefined;
  readonly #retiring = new Map<TimerHandle, ConfigPolicy>();
  #generation = 1;

  constructor(options: ConfigReloaderOptions) {
    this.#opts = options;
    this.#config = options.initial.config;
    this.#policy = options.initial.policy;
  }

  /** The middleware chain in force, read per request. */
  readonly middleware: Middleware = (req, res, next) => this.#policy.middleware(req, res, next);

  /** How many configurations have been in force (1 at start). */
  get generation(): number {
    return this.#generation;
  }

  /** Reads the file again and swaps it in when valid; logs and keeps the old one otherwise. */
  reload(trigger: string): ReloadResult {
    let config: ConfigFile;
    let policy: ConfigPolicy;
    try {
      config = loadConfigFile(this.#opts.path);
      policy = this.#opts.build(config);
    } catch (err) {
      const reason = (err as Error).message;
      this.#opts.logger.error(
        `fleetgate: config reload (${trigger}) refused, the previous configuration stays: ${reason}`,
      );
      return { ok: false, reason };
    }
    try {
      this.#opts.applyRoutes(policy);
    } catch (err) {
      void policy.close();
      const reason = (err as Error).message;
      this.#opts.logger.error(
        `fleetgate: config reload (${trigger}) refused, the previous configuration stays: ${reason}`,
      );
      return { ok: false, reason };
    }
    const old = this.#policy;
    const restart = restartOnlyChanges(this.#config, config);
    this.#policy = policy;
    this.#config = config;
    this.#generation++;
    const timer = this.#opts.clock.setTimeout(() => {
      this.#retiring.delete(timer);
      void old.close();
    }, this.#opts.retireAfterMs ?? 30_000);
    this.#retiring.set(timer, old);
    this.#opts.logger.info(
      `fleetgate: config reloaded (${trigger}), generation ${this.#generation}: ${policy.staticRoutes.length} static routes, chain [${policy.parts.join(', ')}]`,
    );
    if (restart.length > 0) {
      this.#opts.logger.warn(`fleetgate: config changes that need a restart were not applied: ${restart.join(', ')}`);
    }
    return { ok: true, parts: policy.parts };
  }

  /** Reloads when the file changes (its directory is watched, so editors that replace the file count). */
  watch(): void {
    if (this.#watcher !== undefined) return;
    const name = basename(this.#opts.path);
    this.#watcher = watch(dirname(this.#opts.path), { persistent: false }, (_event, file) => {
      if (file !== null && file !== name) return;
      // Editors write in several steps: reload once, shortly after the last one.
      this.#debounce?.cancel();
      this.#debounce = this.#opts.clock.setTimeout(() => {
        this.#debounce = undefined;
        this.reload('file change');
      }, 150);
    });
    this.#watcher.on('error', (err) => this.#opts.logger.warn('fleetgate: config file watch failed', err));
  }

  /** Stops watching and closes every policy. */
  async close(): Promise<void> {
    this.#watcher?.close();
    this.#watcher = undefined;
    this.#debounce?.cancel();
    const retiring = [...this.#retiring];
    this.#retiring.clear();
    for (const [t] of retiring) t.cancel();
    await Promise.all([this.#policy.close(), ...retiring.map(([, p]) => p.close())]);
  }
}
