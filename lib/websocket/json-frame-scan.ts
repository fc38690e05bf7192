/**
 * Reads the two fields the gateway routes by, `path` and `id`, out of a JSON text frame without
 * parsing the rest: one pass over the top-level object's bytes, values other than `path` and `id`
 * skipped (strings to their closing quote, nested objects by bracket depth). The gateway
 * then relays the frame's bytes as they came, so a message costs a scan instead of a
 * `JSON.parse` + `JSON.stringify` of its `data` (docs/websocket.md, "Performance").
 *
 * The scan is strict where routing depends on it (the top level must be an object, keys are
 * decoded like `JSON.parse` decodes them, a repeated `path` or `id` is refused so the gateway and
 * the service can never read different values) and lenient inside `data`, which the service
 * parses and answers for itself.
 */
import { type FrameFields, isMessageId, MAX_PATH } from './message-frames.js';

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const COMMA = 0x2c;
const COLON = 0x3a;

function isSpace(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
}

function skipSpace(b: Buffer, i: number): number {
  while (i < b.length && isSpace(b[i]!)) i++;
  return i;
}

/** Set by {@link stringEnd}: whether the string it just crossed holds a backslash escape. */
let sawEscape = false;

/**
 * Index of the quote closing the string whose opening quote is at `start`; -1 when unterminated.
 * A plain byte loop: for the short strings of a frame it beats `Buffer#indexOf`'s call overhead.
 */
function stringEnd(b: Buffer, start: number): number {
  sawEscape = false;
  const len = b.length;
  for (let i = start + 1; i < len; i++) {
    const c = b[i];
    if (c === QUOTE) return i;
    if (c === BACKSLASH) {
      sawEscape = true;
      i++;
    }
  }
  return -1;
}

/** The decoded string between `start` (a quote) and `end` (its closing quote); undefined when its escapes are bad. */
function decodeString(b: Buffer, start: number, end: number, escaped: boolean): string | undefined {
  if (!escaped) return b.toString('utf8', start + 1, end);
  try {
    return JSON.parse(b.toString('utf8', start, end + 1)) as string;
  } catch {
    return undefined;
  }
}

/** Whether the key between quotes at `start` and `end` (unescaped) is `path` (1), `id` (2), or neither (0). */
function plainKey(b: Buffer, start: number, end: number): 0 | 1 | 2 {
  const n = end - start - 1;
  if (n === 4) {
    return b[start + 1] === 0x70 && b[start + 2] === 0x61 && b[start + 3] === 0x74 && b[start + 4] === 0x68 ? 1 : 0;
  }
  if (n === 2) return b[start + 1] === 0x69 && b[start + 2] === 0x64 ? 2 : 0;
  return 0;
}

/** A non-negative integer of up to 15 digits, read without allocating; -1 for anything else. */
function smallInteger(b: Buffer, from: number, to: number): number {
  if (to - from > 15 || to === from || (b[from] === 0x30 && to - from > 1)) return -1;
  let v = 0;
  for (let i = from; i < to; i++) {
    const d = b[i]! - 0x30;
    if (d < 0 || d > 9) return -1;
    v = v * 10 + d;
  }
  return v;
}

/** Index just past the value starting at `i` (not validated beyond its brackets and strings); -1 when it never ends. */
function skipValue(b: Buffer, i: number): number {
  const c = b[i];
  if (c === QUOTE) {
    const end = stringEnd(b, i);
    return end === -1 ? -1 : end + 1;
  }
  if (c === OPEN_BRACE || c === OPEN_BRACKET) {
    let depth = 0;
    while (i < b.length) {
      const x = b[i]!;
      if (x === QUOTE) {
        const end = stringEnd(b, i);
        if (end === -1) return -1;
        i = end + 1;
        continue;
      }
      if (x === OPEN_BRACE || x === OPEN_BRACKET) depth++;
      else if (x === CLOSE_BRACE || x === CLOSE_BRACKET) {
        depth--;
        if (depth === 0) return i + 1;
      }
      i++;
    }
    return -1;
  }
  // A number or a literal: up to the next delimiter.
  const start = i;
  while (i < b.length) {
    const x = b[i]!;
    if (x === COMMA || x === CLOSE_BRACE || x === CLOSE_BRACKET || isSpace(x)) break;
    i++;
  }
  return i === start ? -1 : i;
}

/** A number token, read the way `JSON.parse` would; undefined when it is not a JSON number. */
const JSON_NUMBER = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?$/;

/**
 * `path` and `id` of a JSON frame (a Buffer of UTF-8 text).
 * @example scanJsonFrame(Buffer.from('{"path":"/chat/x","id":7,"data":{}}')) // { ok: true, path: '/chat/x', id: 7 }
 */
export function scanJsonFrame(b: Buffer): FrameFields {
  let i = skipSpace(b, 0);
  if (b[i] !== OPEN_BRACE)
    return { ok: false, id: null, message: 'the frame must be a JSON object {"path","id","data"}' };
  let path: string | null | undefined;
  let id: string | number | null | undefined;
  i = skipSpace(b, i + 1);
  if (b[i] === CLOSE_BRACE) return finish(b, i, path, id);
  for (;;) {
    if (b[i] !== QUOTE) return refuse(id, 'the frame is not valid JSON');
    const keyEnd = stringEnd(b, i);
    if (keyEnd === -1) return refuse(id, 'the frame is not valid JSON');
    // Only keys that can spell "path" or "id" matter; an escaped key is decoded ("p\u0061th" is "path").
    let key: string | undefined;
    if (!sawEscape) {
      const k = plainKey(b, i, keyEnd);
      key = k === 1 ? 'path' : k === 2 ? 'id' : undefined;
    } else key = decodeString(b, i, keyEnd, true);
    i = skipSpace(b, keyEnd + 1);
    if (b[i] !== COLON) return refuse(id, 'the frame is not valid JSON');
    i = skipSpace(b, i + 1);
    if (i >= b.length) return refuse(id, 'the frame is not valid JSON');
    if (key === 'path' || key === 'id') {
      if ((key === 'path' ? path : id) !== undefined) return refuse(id, `"${key}" appears twice`);
      let value: string | number | null;
      let end: number;
      if (b[i] === QUOTE) {
        const close = stringEnd(b, i);
        if (close === -1) return refuse(id, 'the frame is not valid JSON');
        const s = decodeString(b, i, close, sawEscape);
        if (s === undefined) return refuse(id, 'the frame is not valid JSON');
        value = s;
        end = close + 1;
      } else {
        end = skipValue(b, i);
        if (end === -1) return refuse(id, 'the frame is not valid JSON');
        const small = smallInteger(b, i, end);
        if (small >= 0) value = small;
        else {
          const token = b.toString('latin1', i, end);
          value = JSON_NUMBER.test(token) ? Number(token) : null;
        }
      }
      if (key === 'path') path = typeof value === 'string' ? value : null;
      else id = isMessageId(value) ? value : null;
      i = end;
    } else {
      const end = skipValue(b, i);
      if (end === -1) return refuse(id, 'the frame is not valid JSON');
      i = end;
    }
    i = skipSpace(b, i);
    if (b[i] === COMMA) {
      i = skipSpace(b, i + 1);
      continue;
    }
    if (b[i] === CLOSE_BRACE) return finish(b, i, path, id);
    return refuse(id, 'the frame is not valid JSON');
  }
}

function refuse(id: string | number | null | undefined, message: string): FrameFields {
  return { ok: false, id: isMessageId(id) ? id : null, message };
}

function finish(
  b: Buffer,
  closeAt: number,
  path: string | null | undefined,
  id: string | number | null | undefined,
): FrameFields {
  if (skipSpace(b, closeAt + 1) !== b.length) {
    return { ok: false, id: isMessageId(id) ? id : null, message: 'the frame is not valid JSON' };
  }
  if (typeof path === 'string' && path.length > MAX_PATH) path = null;
  return { ok: true, path, id };
}
