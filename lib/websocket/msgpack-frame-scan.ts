/**
 * Reads `path` and `id` out of a MessagePack frame (a top-level map) without decoding the rest:
 * the MessagePack twin of json-frame-scan.ts. Other values are skipped by their length prefixes;
 * a repeated `path` or `id` is refused so the gateway and the service never read different values.
 */
import { type FrameFields, isMessageId, MAX_PATH } from './message-frames.js';

/** Largest nesting the skipper follows; deeper frames are refused rather than recursed into. */
const MAX_DEPTH = 64;

/** Returned as an end index when the bytes end early or break the format. */
const TRUNCATED = -1;

/**
 * Set by {@link readScalar}: where the value it just read ends (TRUNCATED when it does not fit).
 * A module variable rather than a result object, so a frame's scan allocates nothing per field.
 */
let scalarEnd = 0;

function readStr(b: Buffer, at: number, len: number): string | undefined {
  const end = at + len;
  if (end > b.length) {
    scalarEnd = TRUNCATED;
    return undefined;
  }
  scalarEnd = end;
  return b.toString('utf8', at, end);
}

/** Whether `n` bytes follow the type byte at `i`. */
function has(b: Buffer, i: number, n: number): boolean {
  return i + 1 + n <= b.length;
}

/** A fixed-size number after the type byte at `i`; sets {@link scalarEnd}. */
function readNumber(b: Buffer, i: number, t: number): number | undefined {
  const size = NUMBER_SIZE[t - 0xca]!;
  if (!has(b, i, size)) {
    scalarEnd = TRUNCATED;
    return undefined;
  }
  scalarEnd = i + 1 + size;
  switch (t) {
    case 0xcc:
      return b[i + 1]!;
    case 0xcd:
      return b.readUInt16BE(i + 1);
    case 0xce:
      return b.readUInt32BE(i + 1);
    case 0xcf:
      return Number(b.readBigUInt64BE(i + 1));
    case 0xd0:
      return b.readInt8(i + 1);
    case 0xd1:
      return b.readInt16BE(i + 1);
    case 0xd2:
      return b.readInt32BE(i + 1);
    case 0xd3:
      return Number(b.readBigInt64BE(i + 1));
    case 0xca:
      return b.readFloatBE(i + 1);
    default:
      return b.readDoubleBE(i + 1);
  }
}

/** Bytes after the type byte of the numbers 0xca (float 32) to 0xd3 (int 64). */
const NUMBER_SIZE = [4, 8, 1, 2, 4, 8, 1, 2, 4, 8];

/**
 * Reads a string or number at `i` and sets {@link scalarEnd}; other types come back `undefined`
 * with their end.
 */
function readScalar(b: Buffer, i: number): string | number | undefined {
  if (i >= b.length) {
    scalarEnd = TRUNCATED;
    return undefined;
  }
  const t = b[i]!;
  if (t <= 0x7f || t >= 0xe0) {
    scalarEnd = i + 1;
    return t <= 0x7f ? t : t - 0x100;
  }
  if (t >= 0xa0 && t <= 0xbf) return readStr(b, i + 1, t & 0x1f);
  if (t >= 0xca && t <= 0xd3) return readNumber(b, i, t);
  if (t === 0xd9) return has(b, i, 1) ? readStr(b, i + 2, b[i + 1]!) : truncated();
  if (t === 0xda) return has(b, i, 2) ? readStr(b, i + 3, b.readUInt16BE(i + 1)) : truncated();
  if (t === 0xdb) return has(b, i, 4) ? readStr(b, i + 5, b.readUInt32BE(i + 1)) : truncated();
  scalarEnd = skip(b, i, 0);
  return undefined;
}

function truncated(): undefined {
  scalarEnd = TRUNCATED;
  return undefined;
}

/** The length prefix of `n` bytes after the type byte at `i`; -1 when it does not fit. */
function lengthAt(b: Buffer, i: number, n: number): number {
  if (!has(b, i, n)) return -1;
  return n === 1 ? b[i + 1]! : n === 2 ? b.readUInt16BE(i + 1) : b.readUInt32BE(i + 1);
}

/** Index just past the value at `i`, or TRUNCATED. */
function skip(b: Buffer, i: number, depth: number): number {
  if (i >= b.length || depth > MAX_DEPTH) return TRUNCATED;
  const t = b[i]!;
  let count = 0;
  let at: number;
  if (t <= 0x7f || t >= 0xe0 || t === 0xc0 || t === 0xc2 || t === 0xc3) return i + 1;
  if (t >= 0xa0 && t <= 0xbf) return fits(b, i + 1 + (t & 0x1f));
  if (t >= 0x80 && t <= 0x8f) {
    count = (t & 0x0f) * 2;
    at = i + 1;
  } else if (t >= 0x90 && t <= 0x9f) {
    count = t & 0x0f;
    at = i + 1;
  } else {
    switch (t) {
      case 0xc4:
      case 0xd9:
        return lengthAt(b, i, 1) < 0 ? TRUNCATED : fits(b, i + 2 + lengthAt(b, i, 1));
      case 0xc5:
      case 0xda:
        return lengthAt(b, i, 2) < 0 ? TRUNCATED : fits(b, i + 3 + lengthAt(b, i, 2));
      case 0xc6:
      case 0xdb:
        return lengthAt(b, i, 4) < 0 ? TRUNCATED : fits(b, i + 5 + lengthAt(b, i, 4));
      case 0xc7:
        return lengthAt(b, i, 1) < 0 ? TRUNCATED : fits(b, i + 3 + lengthAt(b, i, 1));
      case 0xc8:
        return lengthAt(b, i, 2) < 0 ? TRUNCATED : fits(b, i + 4 + lengthAt(b, i, 2));
      case 0xc9:
        return lengthAt(b, i, 4) < 0 ? TRUNCATED : fits(b, i + 6 + lengthAt(b, i, 4));
      case 0xcc:
      case 0xd0:
        return fits(b, i + 2);
      case 0xcd:
      case 0xd1:
      case 0xd4:
        return fits(b, i + 3);
      case 0xd5:
        return fits(b, i + 4);
      case 0xca:
      case 0xce:
      case 0xd2:
        return fits(b, i + 5);
      case 0xd6:
        return fits(b, i + 6);
      case 0xcb:
      case 0xcf:
      case 0xd3:
        return fits(b, i + 9);
      case 0xd7:
        return fits(b, i + 10);
      case 0xd8:
        return fits(b, i + 18);
      case 0xdc:
        if (lengthAt(b, i, 2) < 0) return TRUNCATED;
        count = lengthAt(b, i, 2);
        at = i + 3;
        break;
      case 0xdd:
        if (lengthAt(b, i, 4) < 0) return TRUNCATED;
        count = lengthAt(b, i, 4);
        at = i + 5;
        break;
      case 0xde:
        if (lengthAt(b, i, 2) < 0) return TRUNCATED;
        count = lengthAt(b, i, 2) * 2;
        at = i + 3;
        break;
      case 0xdf:
        if (lengthAt(b, i, 4) < 0) return TRUNCATED;
        count = lengthAt(b, i, 4) * 2;
        at = i + 5;
        break;
      default:
        return TRUNCATED; // 0xc1 is never used
    }
  }
  for (let k = 0; k < count; k++) {
    at = skip(b, at, depth + 1);
    if (at === TRUNCATED) return TRUNCATED;
  }
  return at;
}

function refuse(id: string | number | null | undefined, message: string): FrameFields {
  return { ok: false, id: isMessageId(id) ? id : null, message };
}

function fits(b: Buffer, end: number): number {
  return end <= b.length ? end : TRUNCATED;
}

/**
 * `path` and `id` of a MessagePack frame.
 * @example scanMsgpackFrame(Buffer.from(encode({ path: '/chat/x', id: 7 }))) // { ok: true, path: '/chat/x', id: 7 }
 */
export function scanMsgpackFrame(b: Buffer): FrameFields {
  const t = b[0];
  let pairs: number;
  let i: number;
  if (t !== undefined && t >= 0x80 && t <= 0x8f) {
    pairs = t & 0x0f;
    i = 1;
  } else if (t === 0xde && b.length >= 3) {
    pairs = b.readUInt16BE(1);
    i = 3;
  } else if (t === 0xdf && b.length >= 5) {
    pairs = b.readUInt32BE(1);
    i = 5;
  } else return { ok: false, id: null, message: 'the frame must be a MessagePack map {path, id, data}' };
  let path: string | null | undefined;
  let id: string | number | null | undefined;
  for (let k = 0; k < pairs; k++) {
    const key = readScalar(b, i);
    if (scalarEnd === TRUNCATED) return refuse(id, 'the frame is not valid MessagePack');
    i = scalarEnd;
    if (key === 'path' || key === 'id') {
      if ((key === 'path' ? path : id) !== undefined) return refuse(id, `"${key}" appears twice`);
      const value = readScalar(b, i);
      if (scalarEnd === TRUNCATED) return refuse(id, 'the frame is not valid MessagePack');
      if (key === 'path') path = typeof value === 'string' && value.length <= MAX_PATH ? value : null;
      else id = isMessageId(value) ? value : null;
      i = scalarEnd;
    } else {
      i = skip(b, i, 0);
      if (i === TRUNCATED) return refuse(id, 'the frame is not valid MessagePack');
    }
  }
  if (i !== b.length) return refuse(id, 'the frame is not valid MessagePack');
  return { ok: true, path, id };
}
