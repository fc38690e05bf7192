/**
 * Waiting out the event loop: store deadlines (store-deadline.ts, call-deadlines.ts) are decided
 * only after the loop has turned, so an answer already waiting in a socket is read first.
 */

/**
 * Runs `fn` after `turns` more turns of the event loop (each one through its poll phase).
 * @example afterLoopTurns(2, () => settled || reject(new Error('PING: no answer within 500 ms')));
 */
export function afterLoopTurns(turns: number, fn: () => void): void {
  if (turns === 0) fn();
  else setImmediate(() => afterLoopTurns(turns - 1, fn));
}
