/**
 * What every harness server handle offers, whichever provider runs it.
 */

/** Who runs the server: a local binary or a container started through testcontainers. */
export type HarnessProvider = 'local' | 'testcontainers';

/** A server a test owns. `await using server = await startRedis()` stops it at scope exit. */
export interface TestServer extends AsyncDisposable {
  /** How the server runs. */
  readonly provider: HarnessProvider;
  /** Stops the server for good (SIGTERM, then SIGKILL after a bound) and removes its data. Idempotent. */
  stop(): Promise<void>;
  /** SIGKILL, for outage tests: the address stays reserved and the data directory is kept. */
  kill(): Promise<void>;
  /** Starts it again on the same port with the same data directory (after {@link kill}, or kills first). */
  restart(): Promise<void>;
}
