/**
 * An open-loop load generator for latency at a fixed rate: requests leave on a schedule
 * (evenly spaced, checked every millisecond) whether or not earlier ones have answered, as wrk2
 * does. autocannon's `overallRate` instead lets each connection send its whole per-second quota
 * back to back and then wait, so its "fixed rate" is a burst at full load once a second, and the
 * latency it reports is the latency of those bursts.
 */
import { Pool } from 'undici';

/** Lag behind the schedule that counts as late: beyond the timer's own millisecond granularity. */
export const LATE_MS = 5;

/** Options of {@link runOpenLoop}. */
export interface OpenLoopOptions {
  /** Requests per second. */
  rate: number;
  /** How long to send, in seconds. */
  seconds: number;
  /** Keep-alive connections to the target (requests wait for one in undici's queue, and the wait counts). */
  connections: number;
}

/** What {@link runOpenLoop} measured. */
export interface OpenLoopResult {
  /**
   * Latency of every 2xx response in ms, from the moment it was sent (queueing for a connection
   * included) to the end of its body; sorted. Sending never waits for answers, so a slow server
   * cannot hide its stalls by slowing the generator down; `late` says when the generator lagged.
   */
  times: number[];
  /** Failed requests and non-2xx answers. */
  errors: number;
  /** Requests sent more than {@link LATE_MS} after they were due (the generator itself fell behind). */
  late: number;
}

/** Sends `rate × seconds` GET requests to `url` on an even schedule and records their latency. */
export async function runOpenLoop(url: string, opts: OpenLoopOptions): Promise<OpenLoopResult> {
  const target = new URL(url);
  const pool = new Pool(target.origin, { connections: opts.connections, pipelining: 1 });
  const total = Math.round(opts.rate * opts.seconds);
  const intervalMs = 1000 / opts.rate;
  const times: number[] = [];
  let errors = 0;
  let late = 0;
  let sent = 0;
  let settled = 0;
  const path = target.pathname + target.search;

  await new Promise<void>((resolve) => {
    const fire = (): void => {
      const sentAt = performance.now();
      pool
        .request({ path, method: 'GET' })
        .then(
          async ({ statusCode, body }) => {
            await body.dump();
            if (statusCode >= 200 && statusCode < 300) times.push(performance.now() - sentAt);
            else errors++;
          },
          () => {
            errors++;
          },
        )
        .finally(() => {
          if (++settled === total) resolve();
        });
    };
    const t0 = performance.now();
    const tick = (): void => {
      const now = performance.now();
      while (sent < total) {
        const dueAt = t0 + sent * intervalMs;
        if (dueAt > now) break;
        if (now - dueAt > LATE_MS) late++;
        sent++;
        fire();
      }
      if (sent < total) setTimeout(tick, 1);
    };
    if (total === 0) resolve();
    else tick();
  });
  await pool.close();
  times.sort((a, b) => a - b);
  return { times, errors, late };
}
