/**
 * Reading the client's request body before it is forwarded: `Expect: 100-continue` answered, and
 * a small body of known length read into one buffer so a failed attempt can send it again on
 * another instance (README "Routing and proxying": a retried POST is never sent empty). Larger
 * and chunked bodies are streamed instead (forward-request.ts).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';

/**
 * Answers `Expect: 100-continue` unless Node (or the app) already did.
 * @example if (expectHeaderSent) answerContinue(res);
 */
export function answerContinue(res: ServerResponse): void {
  if ((res as { _sent100?: boolean })._sent100 !== true && !res.headersSent) res.writeContinue();
}

/** Who is told when the body is in. */
export interface BodyReceiver {
  /** The body arrived (all of it, or what came before the stream ended). */
  bodyCollected(body: Buffer): void;
  /** The client's request stream failed. */
  clientClosed(): void;
}

/** The collector hangs on the request, so the shared listeners find it without closures. */
interface WithCollector {
  [kCollector]?: BodyCollector;
}
const kCollector = Symbol('fleetgate.bodyCollector');

function onReqData(this: IncomingMessage & WithCollector, chunk: Buffer): void {
  this[kCollector]?.chunk(chunk);
}
function onReqEnd(this: IncomingMessage & WithCollector): void {
  this[kCollector]?.end();
}
function onReqError(this: IncomingMessage & WithCollector): void {
  this[kCollector]?.failed();
}

/**
 * Buffers one request body of `length` bytes (bytes beyond it are not kept).
 * @example
 * const collector = new BodyCollector(req, contentLength, exchange); // exchange.bodyCollected(body) follows
 * collector.stop();                                                    // the request ended first
 */
export class BodyCollector {
  readonly #req: IncomingMessage & WithCollector;
  readonly #receiver: BodyReceiver;
  readonly #buffer: Buffer;
  #filled = 0;

  constructor(req: IncomingMessage, length: number, receiver: BodyReceiver) {
    this.#req = req;
    this.#receiver = receiver;
    this.#buffer = Buffer.allocUnsafe(length);
    this.#req[kCollector] = this;
    req.on('data', onReqData);
    req.on('end', onReqEnd);
    req.on('error', onReqError);
  }

  /** @internal */
  chunk(chunk: Buffer): void {
    const room = this.#buffer.length - this.#filled;
    chunk.copy(this.#buffer, this.#filled, 0, Math.min(room, chunk.length));
    this.#filled += Math.min(room, chunk.length);
  }

  /** @internal */
  end(): void {
    this.stop();
    const buffer = this.#buffer;
    this.#receiver.bodyCollected(this.#filled === buffer.length ? buffer : buffer.subarray(0, this.#filled));
  }

  /** @internal */
  failed(): void {
    this.#receiver.clientClosed();
  }

  /** Stops reading: later bytes and the end are ignored (a failure still reaches the receiver only while reading). Idempotent. */
  stop(): void {
    const req = this.#req;
    req.off('data', onReqData);
    req.off('end', onReqEnd);
    req[kCollector] = undefined;
  }
}
