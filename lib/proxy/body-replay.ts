/**
 * Replaying a request body that a body parser (`express.json()`, `express.urlencoded()`,
 * `express.text()`, `express.raw()`) already consumed: the stream is empty, so the parsed value
 * is re-serialised for its Content-Type and sent with a correct Content-Length.
 */
import type { IncomingMessage } from 'node:http';

/** A request after a body parser ran. */
interface ParsedRequest extends IncomingMessage {
  body?: unknown;
  /** Set by body-parser once it has read the stream. */
  _body?: boolean;
}

/**
 * True when a body parser has consumed the request stream and left its result on `req.body`.
 * A `req.body` set by hand while the stream is unread does not count: the stream is forwarded.
 */
export function hasParsedBody(req: IncomingMessage): boolean {
  const r = req as ParsedRequest;
  return r.body !== undefined && (r._body === true || r.readableEnded);
}

/**
 * The body to send in place of one a body parser consumed, or `undefined` when the stream is
 * still unread (it is forwarded as it comes).
 * @param originalLength the client's Content-Length (-1 when unknown).
 * @example replayParsedBody(req, 7)?.data.toString() // '{"a":1}' after express.json()
 */
export function replayParsedBody(req: IncomingMessage, originalLength: number): ReplayBody | undefined {
  if (!hasParsedBody(req)) return undefined;
  return serializeParsedBody((req as ParsedRequest).body, req.headers['content-type'], originalLength);
}

/** A re-serialised body. */
export interface ReplayBody {
  data: Buffer;
  /** A Content-Type to send instead of the client's, when the serialisation changed it. */
  contentType: string | undefined;
}

/**
 * Serialises `body` for `contentType`: JSON for `application/json` and `+json` types, a
 * qs-style form (`a[b]=1&list[0]=x`) for `application/x-www-form-urlencoded`, bytes as they are,
 * strings as UTF-8. Objects under any other type are sent as JSON.
 * @param originalLength the client's Content-Length (-1 when unknown); a parser turns an empty
 * body into `{}`, which must stay empty.
 * @example serializeParsedBody({ a: 1 }, 'application/json', 7).data.toString() // '{"a":1}'
 */
export function serializeParsedBody(body: unknown, contentType: string | undefined, originalLength = -1): ReplayBody {
  if (originalLength === 0) return { data: Buffer.alloc(0), contentType: undefined };
  if (Buffer.isBuffer(body)) return { data: body, contentType: undefined };
  if (body instanceof Uint8Array)
    return { data: Buffer.from(body.buffer, body.byteOffset, body.byteLength), contentType: undefined };
  const mime = mimeOf(contentType);
  if (typeof body === 'string') return { data: Buffer.from(body, 'utf8'), contentType: utf8ContentType(contentType) };
  if (mime === 'application/x-www-form-urlencoded') {
    return { data: Buffer.from(encodeForm(body), 'utf8'), contentType: undefined };
  }
  const json = JSON.stringify(body) ?? '';
  const isJson = mime === 'application/json' || mime.endsWith('+json');
  return {
    data: Buffer.from(json, 'utf8'),
    contentType: isJson ? utf8ContentType(contentType) : 'application/json; charset=utf-8',
  };
}

function mimeOf(contentType: string | undefined): string {
  if (contentType === undefined) return '';
  const semi = contentType.indexOf(';');
  return (semi < 0 ? contentType : contentType.slice(0, semi)).trim().toLowerCase();
}

/** The same type with `charset=utf-8` when it named another charset (the value is now UTF-8). */
function utf8ContentType(contentType: string | undefined): string | undefined {
  if (contentType === undefined) return undefined;
  const lower = contentType.toLowerCase();
  const at = lower.indexOf('charset=');
  if (at < 0) return undefined;
  const charset = lower
    .slice(at + 8)
    .split(';')[0]!
    .trim()
    .replaceAll('"', '');
  if (charset === 'utf-8' || charset === 'utf8') return undefined;
  return `${mimeOf(contentType)}; charset=utf-8`;
}

/**
 * Encodes a (possibly nested) object as a form: repeated keys for lists of values, brackets for
 * nesting (`a[b]=1`), which `express.urlencoded()` (simple or extended) parses back into the same value.
 */
export function encodeForm(value: unknown): string {
  const parts: string[] = [];
  if (value !== null && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) appendForm(parts, k, v);
  }
  return parts.join('&');
}

function appendForm(parts: string[], key: string, value: unknown): void {
  if (value === undefined) return;
  if (value === null) {
    parts.push(`${encodeURIComponent(key)}=`);
  } else if (Array.isArray(value)) {
    // `a=1&a=2` reads back as an array under both the simple and the extended parser.
    for (let i = 0; i < value.length; i++) {
      const v: unknown = value[i];
      appendForm(parts, v !== null && typeof v === 'object' ? `${key}[${i}]` : key, v);
    }
  } else if (typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) appendForm(parts, `${key}[${k}]`, v);
  } else {
    parts.push(`${encodeURIComponent(key)}=${encodeURIComponent(String(value))}`);
  }
}
