/**
 * Test helpers for store deadlines (lib/registry/store-deadline.ts, call-deadlines.ts): how a
 * promise ended without awaiting it, a clock whose timers fire late like a stalled loop's, and
 * waiting out turns of the event loop.
 */
import type { Clock, TimerHandle } from '../clock.js';

/**
 * Reports how a promise ended, without awaiting it.
 * @example const state = track(call()); await loopTurns(3); assert.equal(state(), 'resolved PONG');
 */
export function track<T>(p: Promise<T>): () => string {
  let state = 'pending';
  p.then(
    (v) => {
      state = `resolved ${String(v)}`;
    },
    (err: Error) => {
      state = `rejected ${err.message}`;
    },
  );
  return () => state;
}

/** A clock whose timers fire only when told to, at whatever time it then says: a stalled loop. */
export class StallingClock implements Clock {
  time = 0;
  readonly timers: (() => void)[] = [];
  now(): number {
    return this.time;
  }
  setTimeout(fn: () => void): TimerHandle {
    const entry = () => fn();
    this.timers.push(entry);
    return {
      cancel: () => {
        const i = this.timers.indexOf(entry);
        if (i >= 0) this.timers.splice(i, 1);
      },
    };
  }
  setInterval(): TimerHandle {
    throw new Error('unused');
  }
  /** Runs the oldest timer at `at`. */
  fire(at: number): void {
    this.time = at;
    this.timers.shift()?.();
  }
}

/** Resolves after `n` turns of the event loop. */
export async function loopTurns(n: number): Promise<void> {
  for (let i = 0; i < n; i++) await new Promise<void>((r) => setImmediate(r));
}
