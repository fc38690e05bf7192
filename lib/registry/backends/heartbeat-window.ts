/**
 * Gathers heartbeats that arrive close together, so a store backend renews them in one turn of
 * the event loop: Redis then sends them as one pipeline (one write, one read, their events
 * together), etcd as one read and one write transaction. At 10,000 instances on a 30 s interval
 * heartbeats arrive ~3 ms apart; sent one by one, each pays a round trip and the wakeups around
 * it. The window is a real timer, not the injectable clock: it paces I/O, not leases, and a fake
 * clock must not hold a heartbeat back. docs/scale.md, "Stores".
 */

/**
 * One shared window at a time: the first heartbeat opens it, every heartbeat waits for it to
 * close, and all of them go on in the same turn.
 * @example
 * const window = new HeartbeatWindow(20);
 * await window.wait(); // then send the renewal
 */
export class HeartbeatWindow {
  readonly #ms: number;
  #open: Promise<void> | undefined;

  /** @param ms how long the window stays open; 0 disables it ({@link wait} resolves at once). */
  constructor(ms: number) {
    if (!(Number.isFinite(ms) && ms >= 0)) throw new TypeError('HeartbeatWindow: ms must be a number ≥ 0');
    this.#ms = ms;
  }

  /** Resolves when the current window closes (opening one if none is open). */
  wait(): Promise<void> | undefined {
    if (this.#ms === 0) return undefined;
    this.#open ??= new Promise<void>((resolve) => {
      setTimeout(() => {
        this.#open = undefined;
        resolve();
      }, this.#ms); // ref'd: a heartbeat waiting on it is work in progress
    });
    return this.#open;
  }
}
