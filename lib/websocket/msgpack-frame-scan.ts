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

/** A decoded scalar (string, number, or `undefined` for anything else) and where it ends. */
interface Scalar {
  value: string | number | undefined;
  end: number;
}

function readStr(b: Buffer, at: number, len: number): Scalar {
  const end = at + len;
  if (end > b.length) return { value: undefined, end: TRUNCATED };
  return { value: b.toString('utf8', at, end), end };
}

/** Reads a string or number at `i`; other types come back as `value: undefined` with their end. */
function readScalar(b: Buffer, i: number): Scalar {
  if (i >= b.length) return { value: undefined, end: TRUNCATED };
  const t = b[i]!;
  if (t <= 0x7f) return { value: t, end: i + 1 };
  if (t >= 0xe0) return { value: t - 0x100, end: i + 1 };
  if (t >= 0xa0 && t <= 0xbf) return readStr(b, i + 1, t & 0x1f);
  const need = (n: number): boolean => i + 1 + n <= b.length;
  switch (t) {
    case 0xd9:
      return need(1) ? readStr(b, i + 2, b[i + 1]!) : { value: undefined, end: TRUNCATED };
    case 0xda:
      return need(2) ? readStr(b, i + 3, b.readUInt16BE(i + 1)) : { value: undefined, end: TRUNCATED };
    case 0xdb:
      return need(4) ? readStr(b, i + 5, b.readUInt32BE(i + 1)) : { value: undefined, end: TRUNCATED };
    case 0xcc:
      return need(1) ? { value: b[i + 1]!, end: i + 2 } : { value: undefined, end: TRUNCATED };
    case 0xcd:
      return need(2) ? { value: b.readUInt16BE(i + 1), end: i + 3 } : { value: undefined, end: TRUNCATED };
    case 0xce:
      return need(4) ? { value: b.readUInt32BE(i + 1), end: i + 5 } : { value: undefined, end: TRUNCATED };
    case 0xcf:
      return need(8) ? { value: Number(b.readBigUInt64BE(i + 1)), end: i + 9 } : { value: undefined, end: TRUNCATED };
    case 0xd0:
      return need(1) ? { value: b.readInt8(i + 1), end: i + 2 } : { value: undefined, end: TRUNCATED };
    case 0xd1:
      return need(2) ? { value: b.readInt16BE(i + 1), end: i + 3 } : { value: undefined, end: TRUNCATED };
    case 0xd2:
      return need(4) ? { value: b.readInt32BE(i + 1), end: i + 5 } : { value: undefined, end: TRUNCATED };
    case 0xd3:
      return need(8) ? { value: Number(b.readBigInt64BE(i + 1)), end: i + 9 } : { value: undefined, end: TRUNCATED };
    case 0xca:
      return need(4) ? { value: b.readFloatBE(i + 1), end: i + 5 } : { value: undefined, end: TRUNCATED };
    case 0xcb:
      return need(8) ? { value: b.readDoubleBE(i + 1), end: i + 9 } : { value: undefined, end: TRUNCATED };
    default:
      return { value: undefined, end: skip(b, i, 0) };
  }
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
    const len = (n: number): number =>
      i + 1 + n > b.length ? -1 : n === 1 ? b[i + 1]! : n === 2 ? b.readUInt16BE(i + 1) : b.readUInt32BE(i + 1);
    switch (t) {
      case 0xc4:
      case 0xd9:
        return len(1) < 0 ? TRUNCATED : fits(b, i + 2 + len(1));
      case 0xc5:
      case 0xda:
        return len(2) < 0 ? TRUNCATED : fits(b, i + 3 + len(2));
      case 0xc6:
      case 0xdb:
        return len(4) < 0 ? TRUNCATED : fits(b, i + 5 + len(4));
      case 0xc7:
        return len(1) < 0 ? TRUNCATED : fits(b, i + 3 + len(1));
      case 0xc8:
        return len(2) < 0 ? TRUNCATED : fits(b, i + 4 + len(2));
      case 0xc9:
        return len(4) < 0 ? TRUNCATED : fits(b, i + 6 + len(4));
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
        if (len(2) < 0) return TRUNCATED;
        count = len(2);
        at = i + 3;
        break;
      case 0xdd:
        if (len(4) < 0) return TRUNCATED;
        count = len(4);
        at = i + 5;
        break;
      case 0xde:
        if (len(2) < 0) return TRUNCATED;
        count = len(2) * 2;
        at = i + 3;
        break;
      case 0xdf:
        if (len(4) < 0) return TRUNCATED;
        count = len(4) * 2;
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
    if (key.end === TRUNCATED) return refuse(id, 'the frame is not valid MessagePack');
    i = key.end;
    if (key.value === 'path' || key.value === 'id') {
      if ((key.value === 'path' ? path : id) !== undefined) return refuse(id, `"${key.value}" appears twice`);
      const v = readScalar(b, i);
      if (v.end === TRUNCATED) return refuse(id, 'the frame is not valid MessagePack');
      if (key.value === 'path') path = typeof v.value === 'string' && v.value.length <= MAX_PATH ? v.value : null;
      else id = isMessageId(v.value) ? v.value : null;
      i = v.end;
    } else {
      i = skip(b, i, 0);
      if (i === TRUNCATED) return refuse(id, 'the frame is not valid MessagePack');
    }
  }
  if (i !== b.length) return refuse(id, 'the frame is not valid MessagePack');
  return { ok: true, path, id };
}
