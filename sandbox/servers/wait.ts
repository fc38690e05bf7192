/**
 * The harness's readiness loop: a condition polled until a deadline, that gives up at once
 * when the server process has died (no point waiting 10 s for a server that exited).
 */

/** Options for {@link waitUntil}. */
export interface WaitUntilOptions {
  /** @default 10000 */
  timeoutMs?: number;
  /** @default 50 */
  intervalMs?: number;
  /** Named in the timeout error. */
  description: string;
  /** Returns a message when waiting is pointless (the process exited); checked every round. */
  fatal?: () => string | undefined;
}

/**
 * Polls `cond` until it resolves truthy (returned) or the deadline passes. Throws from `cond`
 * count as "not yet"; the last one becomes the timeout error's cause.
 */
export async function waitUntil<T>(
  cond: () => Promise<T | undefined | null | false> | T | undefined | null | false,
  options: WaitUntilOptions,
): Promise<T> {
  const deadline = Date.now() + (options.timeoutMs ?? 10_000);
  let lastError: unknown;
  for (;;) {
    const fatal = options.fatal?.();
    if (fatal !== undefined) throw new Error(`${options.description}: ${fatal}`, { cause: lastError });
    try {
      const value = await cond();
      if (value) return value;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() >= deadline) {
      throw new Error(`timed out after ${options.timeoutMs ?? 10_000} ms waiting for ${options.description}`, {
        cause: lastError,
      });
    }
    await new Promise<void>((resolve) => setTimeout(resolve, options.intervalMs ?? 50));
  }
}
