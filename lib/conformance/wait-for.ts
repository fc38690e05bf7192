/**
 * Waiting on a condition with a deadline: the only way tests here wait (never a bare sleep).
 */

/** Options for {@link waitFor}. */
export interface WaitForOptions {
  /** Give up after this long, in ms. @default 5000 */
  timeoutMs?: number;
  /** Poll every this many ms. @default 20 */
  intervalMs?: number;
  /** Named in the timeout error. @default 'condition' */
  description?: string;
}

/**
 * Polls `cond` until it returns a truthy value (which is returned) or the deadline passes
 * (then rejects with an Error naming `description`). Exceptions thrown by `cond` count as
 * "not yet"; the last one is attached as `cause` on timeout.
 * @example const inst = await waitFor(() => backend.get('sagjan', id), { timeoutMs: 3000 });
 */
export async function waitFor<T>(
  cond: () => T | Promise<T>,
  options: WaitForOptions = {},
): Promise<NonNullable<Awaited<T>>> {
  const timeoutMs = options.timeoutMs ?? 5000;
  const intervalMs = options.intervalMs ?? 20;
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await cond();
      if (value) return value as NonNullable<Awaited<T>>;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() >= deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${options.description ?? 'condition'}`, {
        cause: lastError,
      });
    }
    await new Promise<void>((resolve) => setTimeout(resolve, Math.min(intervalMs, Math.max(1, deadline - Date.now()))));
  }
}
