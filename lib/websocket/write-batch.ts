/**
 * One socket write per burst instead of one per frame. `ws` writes every frame as soon as it is
 * sent (a `write` or `writev` system call each), and a relay that forwards frame by frame pays
 * one call per message in each direction. When several frames arrive in one TCP read (clients
 * keep requests in flight), the router forwards them all in the same turn of the event loop: the
 * socket is corked at the first and uncorked once that turn's synchronous work is done (a
 * microtask), so the burst leaves in one `writev`. No frame waits for a later read or a timer.
 */

/** The part of a socket (`net.Socket`, `tls.TLSSocket`) a batch needs. */
export interface CorkableSocket {
  cork(): void;
  uncork(): void;
}

/**
 * Holds one socket's writes until the end of the current turn.
 * @example
 * const batch = new WriteBatch(socket);
 * batch.hold();          // before each ws.send() on that socket
 * ws.send(frame);        // buffered; written with the others of this turn in one writev
 */
export class WriteBatch {
  /** The socket, once known (an upstream link learns it at the handshake). */
  #socket: CorkableSocket | undefined;
  #held = false;
  /** Bound once, so a burst allocates no closure. */
  readonly #release = (): void => {
    this.#held = false;
    this.#socket?.uncork();
  };

  constructor(socket?: CorkableSocket) {
    this.#socket = socket;
  }

  /**
   * Sets the socket (a link's socket is known only once the upgrade response arrives); ignored
   * while a batch is held, so the cork and its uncork always meet on one socket.
   */
  attach(socket: CorkableSocket): void {
    if (this.#held) return;
    this.#socket = socket;
  }

  /** Whether writes are being held for the end of this turn. */
  get held(): boolean {
    return this.#held;
  }

  /** Corks the socket until the end of this turn (once per turn, whatever the number of calls). */
  hold(): void {
    if (this.#held || this.#socket === undefined) return;
    this.#held = true;
    this.#socket.cork();
    queueMicrotask(this.#release);
  }
}
