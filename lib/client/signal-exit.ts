/**
 * Graceful leave on SIGTERM/SIGINT for `registerService({ handleSignals: true })`: run the
 * cleanup (deregister), then let the signal do what it would have done.
 */
import type { Clock } from '../clock.js';
import type { Logger } from '../logger.js';

/** The signals a process manager (Kubernetes, systemd, Ctrl-C) sends to stop a service. */
export const TERMINATION_SIGNALS: readonly NodeJS.Signals[] = ['SIGTERM', 'SIGINT'];

/** Options for {@link onTerminationSignal}. */
export interface TerminationOptions {
  /** Give up waiting for the cleanup after this long, in ms. */
  timeoutMs: number;
  clock: Clock;
  logger: Logger;
}

/**
 * Runs `cleanup` on the first SIGTERM/SIGINT, then re-raises the signal so the process exits as
 * it would have without us: our listeners are removed first, so when nobody else listens the
 * default action (terminate, exit status 128+n) applies. When the application has its own
 * listener for that signal, it already received this signal and owns the exit, so we do not
 * raise it a second time. Returns a function that removes the listeners.
 * @example const detach = onTerminationSignal(() => handle.close(), { timeoutMs: 5000, clock: realClock, logger: console });
 */
export function onTerminationSignal(cleanup: () => Promise<void>, options: TerminationOptions): () => void {
  let fired = false;
  const detach = (): void => {
    for (const sig of TERMINATION_SIGNALS) process.removeListener(sig, onSignal);
  };
  function onSignal(signal: NodeJS.Signals): void {
    if (fired) return;
    fired = true;
    detach();
    options.logger.info(`fleetgate client: ${signal} received, deregistering before exit`);
    let timer: { cancel(): void } | undefined;
    const bounded = new Promise<void>((resolve) => {
      timer = options.clock.setTimeout(resolve, options.timeoutMs);
    });
    void Promise.race([cleanup().catch(() => {}), bounded]).then(() => {
      timer?.cancel();
      if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
    });
  }
  for (const sig of TERMINATION_SIGNALS) process.on(sig, onSignal);
  return detach;
}
