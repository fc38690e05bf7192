/**
 * Reads a bounded JSON request body, or takes the one `express.json()` already parsed.
 *
 * Oversized bodies: the declared `Content-Length` is checked before reading, streamed
 * (chunked) bodies are counted as they arrive, and buffering stops at the limit. The rest is
 * drained (up to `drainLimitBytes`) before the caller answers 413, because replying and
 * closing while the client is still sending makes the kernel reset the connection and the
 * client never sees the 413. Beyond the drain limit the request is given up on at once.
 */
import type { IncomingMessage } from 'node:http';
import { FleetgateError } from '../errors.js';

/** Options for {@link readJsonBody}. */
export interface ReadJsonBodyOptions {
  /** Largest accepted body in bytes. */
  maxBytes: number;
  /** Bytes of an oversized body discarded so the client can read the 413; beyond that it is cut off. @default max(1 MiB, 4 × maxBytes) */
  drainLimitBytes?: number;
}

/**
 * True for `application/json` and `application/*+json`, with any parameters.
 * @example isJsonContentType('application/json; charset=utf-8') // true
 */
export function isJsonContentType(header: string | undefined): boolean {
  if (header === undefined) return false;
  const type = header.split(';', 1)[0]!.trim().toLowerCase();
  return type === 'application/json' || /^application\/[a-z0-9.+-]+\+json$/.test(type);
}

/**
 * Resolves the parsed JSON body.
 * @throws FleetgateError `ERR_FG_UNSUPPORTED_MEDIA_TYPE` (415), `ERR_FG_BODY_TOO_LARGE` (413),
 * `ERR_FG_MALFORMED_JSON` (400).
 * @example const body = await readJsonBody(req, { maxBytes: 65_536 });
 */
export async function readJsonBody(req: IncomingMessage, options: ReadJsonBodyOptions): Promise<unknown> {
  const { maxBytes } = options;
  const drainLimit = options.drainLimitBytes ?? Math.max(1 << 20, 4 * maxBytes);
  const contentType = req.headers['content-type'];
  if (!isJsonContentType(contentType)) {
    throw new FleetgateError(
      'ERR_FG_UNSUPPORTED_MEDIA_TYPE',
      `expected Content-Type application/json, got ${contentType === undefined ? 'none' : JSON.stringify(contentType)}`,
    );
  }
  const preParsed = alreadyParsed(req);
  if (preParsed !== undefined) {
    if (Buffer.byteLength(JSON.stringify(preParsed.body)) > maxBytes) throw tooLarge(maxBytes);
    return preParsed.body;
  }
  const declared = req.headers['content-length'];
  if (declared !== undefined && Number(declared) > maxBytes) {
    const length = Number(declared);
    if (length > drainLimit) {
      req.resume();
      throw tooLarge(maxBytes);
    }
    await drain(req, drainLimit);
    throw tooLarge(maxBytes);
  }
  const text = await collect(req, maxBytes, drainLimit);
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new FleetgateError('ERR_FG_MALFORMED_JSON', `the body is not valid JSON: ${(err as Error).message}`, {
      cause: err,
    });
  }
}

/** The body a parser such as `express.json()` left on the request, if it consumed the stream. */
function alreadyParsed(req: IncomingMessage): { body: unknown } | undefined {
  const r = req as IncomingMessage & { body?: unknown; _body?: boolean };
  const consumed = req.readableEnded || r._body === true;
  if (consumed && typeof r.body === 'object' && r.body !== null) return { body: r.body };
  return undefined;
}

function tooLarge(maxBytes: number): FleetgateError {
  return new FleetgateError('ERR_FG_BODY_TOO_LARGE', `the body exceeds ${maxBytes} bytes`, {
    details: { maxBytes },
  });
}

function clientGone(): FleetgateError {
  return new FleetgateError('ERR_FG_MALFORMED_JSON', 'the client aborted the request body');
}

/** Buffers up to `maxBytes`; past that keeps discarding until the end or `drainLimit`, then rejects 413. */
function collect(req: IncomingMessage, maxBytes: number, drainLimit: number): Promise<string> {
  return new Promise((resolve, reject) => {
    if (req.readableEnded) return resolve('');
    let chunks: Buffer[] | undefined = [];
    let received = 0;
    const cleanup = (): void => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
      req.off('close', onClose);
    };
    const onData = (chunk: Buffer): void => {
      received += chunk.length;
      if (chunks !== undefined && received <= maxBytes) {
        chunks.push(chunk);
        return;
      }
      chunks = undefined;
      if (received > drainLimit) {
        // Given up on: stop listening but keep the stream flowing so nothing piles up.
        cleanup();
        req.resume();
        reject(tooLarge(maxBytes));
      }
    };
    const onEnd = (): void => {
      cleanup();
      if (chunks === undefined) reject(tooLarge(maxBytes));
      else resolve(Buffer.concat(chunks, received).toString('utf8'));
    };
    const onError = (): void => {
      cleanup();
      reject(clientGone());
    };
    const onClose = (): void => {
      if (!req.readableEnded) onError();
    };
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
    req.on('close', onClose);
  });
}

/** Discards the body; resolves at its end, or early once `drainLimit` bytes went by. */
function drain(req: IncomingMessage, drainLimit: number): Promise<void> {
  return new Promise((resolve) => {
    let received = 0;
    const done = (): void => {
      req.off('data', onData);
      req.off('end', done);
      req.off('close', done);
      req.resume();
      resolve();
    };
    const onData = (chunk: Buffer): void => {
      received += chunk.length;
      if (received > drainLimit) done();
    };
    req.on('data', onData);
    req.on('end', done);
    req.on('close', done);
  });
}
