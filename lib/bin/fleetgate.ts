#!/usr/bin/env node
/**
 * The `fleetgate` bin: a standalone gateway configured from the environment (README "The standalone gateway") and,
 * when `FLEETGATE_CONFIG` names one, from `fleetgate.yaml` (docs/config-file.md; the environment
 * wins over the file). Prints `fleetgate listening on http://host:port` once it accepts
 * connections (with `PORT=0` the port is the one the OS chose), reloads the file on SIGHUP and on
 * change, and shuts down gracefully on SIGTERM/SIGINT.
 *
 * What only some setups use is imported where it is used, so a gateway that does not use it never
 * loads it (docs/scale.md "Memory per instance"): the config file's reader, policy and reloader
 * (yaml, jose, ioredis for the rate limiter's store) only with `FLEETGATE_CONFIG`, a store client
 * only for its `REGISTRY_TYPE` (lib/registry/backends/from-env.ts), tracing only with `TRACE_URL`.
 */
import { pino } from 'pino';
import { realClock } from '../clock.js';
import { parseEnv } from '../config/env.js';
import type { ConfigFile } from '../config/file/config-schema.js';
import { envFromConfig } from '../config/file/env-overlay.js';
import { isFleetgateError } from '../errors.js';
import type { Gateway } from '../gateway.js';
import type { Logger } from '../logger.js';
import type { RouteLookup } from '../routing/resolve-request.js';
import { createAccessLog } from '../telemetry/access-log.js';
import type { TracingHandle } from '../telemetry/tracing.js';
import { handleCliFlags } from './cli-flags.js';
import type { ConfigPolicy, PolicyContext } from './config-policy.js';
import type { ConfigReloader } from './config-reload.js';
import { capYoungGeneration } from './young-generation.js';

async function main(): Promise<void> {
  const flags = handleCliFlags(process.argv.slice(2), (text) => process.stdout.write(text));
  if (flags === true) return;
  if (typeof flags === 'string') {
    process.stderr.write(flags);
    process.exit(2);
  }
  let env: ReturnType<typeof parseEnv>;
  const configPath = process.env.FLEETGATE_CONFIG;
  let config: ConfigFile | undefined;
  // The file's settings that have a variable, under the environment: the environment wins.
  let mergedEnv: Record<string, string | undefined> = process.env;
  try {
    if (configPath !== undefined && configPath !== '') {
      const { loadConfigFile } = await import('../config/file/load-config-file.js');
      config = loadConfigFile(configPath);
      mergedEnv = { ...envFromConfig(config), ...process.env };
    }
    env = parseEnv(mergedEnv);
  } catch (err) {
    if (isFleetgateError(err, 'ERR_FG_INVALID_CONFIG')) {
      process.stderr.write(`fleetgate: ${err.message}\n`);
      process.exit(1);
    }
    throw err;
  }
  // A burst of registrations would grow V8's young generation to 32 MB and keep it for minutes. With a
  // store, requests wait on round trips and a small young generation promotes them instead (docs/scale.md).
  if (env.registryType === 'INMEMORY') capYoungGeneration();
  const log = pino({ name: 'fleetgate', level: env.logLevel });
  // Extra arguments become structured fields (an Error as `err`, so pino serialises its stack).
  const emit =
    (level: 'info' | 'warn' | 'error') =>
    (msg: unknown, ...rest: unknown[]): void => {
      const err = rest.find((r) => r instanceof Error);
      const fields = err !== undefined ? { err } : rest.length > 0 ? { details: rest } : {};
      log[level](fields, String(msg));
    };
  const logger: Logger = { info: emit('info'), warn: emit('warn'), error: emit('error') };

  // Tracing first, so the proxy's spans have a provider; without TRACE_URL nothing is loaded.
  let tracing: TracingHandle | undefined;
  if (env.traceUrl !== undefined) {
    const { startTracing } = await import('../telemetry/tracing.js');
    tracing = await startTracing({ url: env.traceUrl, serviceName: 'fleetgate' });
    log.info({ traceUrl: tracing.url, protocol: tracing.protocol }, 'tracing on');
  }

  // Imported only now, after tracing started, so the instrumentations see their modules load
  // (ioredis, etcd3's gRPC, node:http).
  const { createGateway } = await import('../gateway.js');
  // One JSON line per proxied request on the same pino logger (ACCESS_LOG: share logged, off).
  const accessLog =
    env.accessLogSample > 0 ? createAccessLog({ logger: log, sampleRate: env.accessLogSample }) : undefined;
  let gateway: Gateway | undefined;
  let reloader: ConfigReloader | undefined;
  let ownRegistry: { close(): Promise<void> } | undefined;
  try {
    if (config === undefined) {
      gateway = await createGateway({ env: mergedEnv, logger, proxy: { accessLog } });
    } else {
      const [{ createRegistry }, { buildPolicy }, { ConfigReloader }] = await Promise.all([
        import('../registry/create-registry.js'),
        import('./config-policy.js'),
        import('./config-reload.js'),
      ]);
      // The auth middlewares judge the route the proxy will take: the proxy's table, once it exists.
      const routes = {
        get routeTable(): RouteLookup | undefined {
          return gateway?.proxy?.routeTable;
        },
      };
      // Counted by the gateway's metrics, which exist once the gateway does (the policy is built first).
      const metrics: PolicyContext['metrics'] = {
        recordAuthRejection: (r) => gateway?.metrics?.recordAuthRejection(r),
        recordRateLimitDecision: (d) => gateway?.metrics?.recordRateLimitDecision(d),
      };
      const ctx: PolicyContext = { routes, clock: realClock, logger, trustProxy: env.trustedProxies, metrics };
      const policy = buildPolicy(config, ctx);
      // Registrations may not overlap the static routes: the registry knows them too.
      const registry = await createRegistry({ env: mergedEnv, logger, staticRoutes: policy.staticRoutes });
      ownRegistry = registry;
      reloader = new ConfigReloader({
        path: configPath!,
        initial: { config, policy },
        build: (next: ConfigFile): ConfigPolicy => buildPolicy(next, ctx),
        applyRoutes: (next) => {
          // The route table validates first and swaps at once; then the registry's claims follow.
          gateway?.proxy?.routeTable?.setStaticRoutes(next.staticRoutes);
          registry.setStaticRoutes(next.staticRoutes);
        },
        clock: realClock,
        logger,
      });
      gateway = await createGateway({
        env: mergedEnv,
        logger,
        registry,
        middlewares: [reloader.middleware],
        proxy: {
          accessLog,
          staticRoutes: policy.staticRoutes,
          ...(config.timeouts?.upstream === undefined ? {} : { timeoutMs: config.timeouts.upstream }),
          ...(config.timeouts?.connect === undefined ? {} : { connectTimeoutMs: config.timeouts.connect }),
        },
      });
      reloader.watch();
      const r = reloader;
      process.on('SIGHUP', () => r.reload('SIGHUP'));
      log.info({ config: configPath, routes: policy.staticRoutes.length, chain: policy.parts }, 'config file loaded');
    }
  } catch (err) {
    process.stderr.write(`fleetgate: cannot start: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  }
  const gw = gateway;
  const address = await gw.listen(env.port, env.host).catch((err: unknown) => {
    process.stderr.write(`fleetgate: cannot listen on ${env.host}:${env.port}: ${(err as Error).message}\n`);
    process.exit(1);
  });
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  const url = `http://${host}:${address.port}`;
  let stopping = false;
  const stop = (signal: NodeJS.Signals): void => {
    if (stopping) {
      log.warn({ signal }, 'second signal: exiting now');
      process.exit(1);
    }
    stopping = true;
    // Readiness fails first (SHUTDOWN_DELAY), then the listener closes and in-flight requests get SHUTDOWN_GRACE.
    log.info({ signal, delayMs: env.shutdownDelayMs, graceMs: env.shutdownGraceMs }, 'draining');
    gw.close({ delayMs: env.shutdownDelayMs, graceMs: env.shutdownGraceMs })
      .then(() => reloader?.close())
      .then(() => ownRegistry?.close())
      .then(() => tracing?.shutdown())
      .then(
        () => {
          log.info('stopped');
          process.exit(0);
        },
        (err: unknown) => {
          log.error({ err }, 'shutdown failed');
          process.exit(1);
        },
      );
  };
  // Before the announcement: a supervisor may signal as soon as it reads it, and a signal that
  // arrives before its listener is installed kills the process without draining.
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);

  // A plain line next to the JSON log, so scripts and tests can find the port without a JSON parser.
  process.stdout.write(`fleetgate listening on ${url}\n`);
  log.info({ url, port: address.port, registry: env.registryType }, 'fleetgate listening');
}

main().catch((err: unknown) => {
  process.stderr.write(`fleetgate: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
