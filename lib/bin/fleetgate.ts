#!/usr/bin/env node
/**
 * The `fleetgate` bin: a standalone gateway configured from the environment (DESIGN.md §6).
 * Prints `fleetgate listening on http://host:port` once it accepts connections (with `PORT=0`
 * the port is the one the OS chose), and shuts down gracefully on SIGTERM/SIGINT.
 */
import { pino } from 'pino';
import { parseEnv } from '../config/env.js';
import { isFleetgateError } from '../errors.js';
import { createGateway, type Gateway } from '../gateway.js';
import type { Logger } from '../logger.js';
import type { TracingHandle } from '../telemetry/tracing.js';

async function main(): Promise<void> {
  let env: ReturnType<typeof parseEnv>;
  try {
    env = parseEnv(process.env);
  } catch (err) {
    if (isFleetgateError(err, 'ERR_FG_INVALID_CONFIG')) {
      process.stderr.write(`fleetgate: ${err.message}\n`);
      process.exit(1);
    }
    throw err;
  }
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
    log.info({ traceUrl: env.traceUrl }, 'tracing on');
  }

  let gateway: Gateway;
  try {
    gateway = await createGateway({ env: process.env, logger });
  } catch (err) {
    process.stderr.write(`fleetgate: cannot start: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  }
  const address = await gateway.listen(env.port, env.host).catch((err: unknown) => {
    process.stderr.write(`fleetgate: cannot listen on ${env.host}:${env.port}: ${(err as Error).message}\n`);
    process.exit(1);
  });
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  const url = `http://${host}:${address.port}`;
  // A plain line next to the JSON log, so scripts and tests can find the port without a JSON parser.
  process.stdout.write(`fleetgate listening on ${url}\n`);
  log.info({ url, port: address.port, registry: env.registryType }, 'fleetgate listening');

  let stopping = false;
  const stop = (signal: NodeJS.Signals): void => {
    if (stopping) {
      log.warn({ signal }, 'second signal: exiting now');
      process.exit(1);
    }
    stopping = true;
    // Readiness fails first (SHUTDOWN_DELAY), then the listener closes and in-flight requests get SHUTDOWN_GRACE.
    log.info({ signal, delayMs: env.shutdownDelayMs, graceMs: env.shutdownGraceMs }, 'draining');
    gateway
      .close({ delayMs: env.shutdownDelayMs, graceMs: env.shutdownGraceMs })
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
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

main().catch((err: unknown) => {
  process.stderr.write(`fleetgate: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
