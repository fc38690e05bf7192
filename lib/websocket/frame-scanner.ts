/**
 * Reads WebSocket frame headers (RFC 6455 §5.2) out of a raw byte stream without touching the
 * payload, so a pinned raw tunnel can enforce `maxPayload`, count messages for the rate limit,
 * notice close frames and know where a frame ends: the only places where the gateway may inject
 * a ping or a close frame of its own without corrupting the stream.
 */
import { randomBytes } from 'node:crypto';

/** Close code: the endpoint is going away (gateway shutdown). */
export const CLOSE_GOING_AWAY = 1001;
/** Close code: the peer broke the framing rules. */
export const CLOSE_PROTOCOL_ERROR = 1002;
/** Close code: a policy (the message rate limit) was violated. */
export const CLOSE_POLICY_VIOLATION = 1008;
/** Close code: a message exceeded `maxPayload`. */
export const CLOSE_MESSAGE_TOO_BIG = 1009;
/** Close code: the pinned instance went away; reconnecting reaches a live one (service restart). */
export const CLOSE_SERVICE_RESTART = 1012;

const OP_CONTINUATION = 0x0;
const OP_CLOSE = 0x8;
/** 2^53 / 2^32: a 64-bit length whose high word exceeds this cannot be a real payload. */
const MAX_HIGH_WORD = 0x1fffff;

/** Bytes of the header that starts with these two bytes. */
function headerSize(b1: number): number {
  const len7 = b1 & 0x7f;
  return 2 + (len7 === 126 ? 2 : len7 === 127 ? 8 : 0) + (b1 & 0x80 ? 4 : 0);
}

/**
 * Follows the frames of one direction of a WebSocket connection.
 * @example
 * const scan = new FrameScanner(64 * 1024);
 * const code = scan.push(chunk); // 0, or the close code the stream deserves (1009, 1002)
 * if (scan.atBoundary) socket.write(pingFrame());
 */
export class FrameScanner {
  /** Data messages seen so far, counted when the header of their final frame arrives (control frames do not count). */
  messages = 0;
  /** Whether a close frame went by. */
  closeSeen = false;
  readonly #maxPayload: number;
  /** Payload bytes of the current frame still to come. */
  #remaining = 0;
  /** A header split across chunks, gathered here (allocated the first time one is). */
  #hdr: Buffer | undefined;
  #hdrLen = 0;
  /** Bytes of the current (possibly fragmented) data message so far. */
  #messageBytes = 0;

  /** @param maxPayload largest data message allowed, in bytes; `Infinity` for none. */
  constructor(maxPayload = Number.POSITIVE_INFINITY) {
    this.#maxPayload = maxPayload;
  }

  /** True between frames: a control frame written now lands in a valid place. */
  get atBoundary(): boolean {
    return this.#remaining === 0 && this.#hdrLen === 0;
  }

  /**
   * Consumes the next chunk of the stream.
   * @returns 0 when all is well, else the close code the connection must be closed with.
   */
  push(chunk: Buffer): number {
    const len = chunk.length;
    let i = 0;
    while (i < len) {
      if (this.#remaining > 0) {
        const avail = len - i;
        if (avail <= this.#remaining) {
          this.#remaining -= avail;
          return 0;
        }
        i += this.#remaining;
        this.#remaining = 0;
        continue;
      }
      let code: number;
      if (this.#hdrLen === 0 && len - i >= 2 && len - i >= headerSize(chunk[i + 1]!)) {
        // The common case: the whole header is inside this chunk, read it in place.
        code = this.#frame(chunk, i);
        i += headerSize(chunk[i + 1]!);
      } else {
        this.#hdr ??= Buffer.alloc(14);
        const hdr = this.#hdr;
        while (i < len && (this.#hdrLen < 2 || this.#hdrLen < headerSize(hdr[1]!))) hdr[this.#hdrLen++] = chunk[i++]!;
        if (this.#hdrLen < 2 || this.#hdrLen < headerSize(hdr[1]!)) return 0;
        this.#hdrLen = 0;
        code = this.#frame(hdr, 0);
      }
      if (code !== 0) return code;
    }
    return 0;
  }

  /** Reads the header at `buf[at]` and sets up the payload skip. */
  #frame(buf: Buffer, at: number): number {
    const b0 = buf[at]!;
    const b1 = buf[at + 1]!;
    const opcode = b0 & 0x0f;
    const fin = (b0 & 0x80) !== 0;
    const len7 = b1 & 0x7f;
    let payload: number;
    if (len7 < 126) payload = len7;
    else if (len7 === 126) payload = buf.readUInt16BE(at + 2);
    else {
      const high = buf.readUInt32BE(at + 2);
      if (high > MAX_HIGH_WORD) return CLOSE_MESSAGE_TOO_BIG;
      payload = high * 0x1_0000_0000 + buf.readUInt32BE(at + 6);
    }
    this.#remaining = payload;
    if (opcode >= OP_CLOSE) {
      if (opcode === OP_CLOSE) this.closeSeen = true;
      return payload > 125 || !fin ? CLOSE_PROTOCOL_ERROR : 0;
    }
    this.#messageBytes = opcode === OP_CONTINUATION ? this.#messageBytes + payload : payload;
    if (this.#messageBytes > this.#maxPayload) return CLOSE_MESSAGE_TOO_BIG;
    if (fin) {
      this.messages++;
      this.#messageBytes = 0;
    }
    return 0;
  }
}

/**
 * A close frame. Frames from the gateway to the client are unmasked; frames to an upstream
 * server play the client's part and must be masked (RFC 6455 §5.3).
 * @example socket.write(closeFrame(1012, 'service restart', false));
 */
export function closeFrame(code: number, reason: string, masked: boolean): Buffer {
  const text = Buffer.from(reason.slice(0, 100));
  const payload = Buffer.allocUnsafe(2 + text.length);
  payload.writeUInt16BE(code, 0);
  text.copy(payload, 2);
  return frame(0x88, payload, masked);
}

/** An empty ping frame, unmasked (gateway → client). */
export function pingFrame(): Buffer {
  return PING;
}

const PING = Buffer.from([0x89, 0x00]);

function frame(b0: number, payload: Buffer, masked: boolean): Buffer {
  if (!masked) return Buffer.concat([Buffer.from([b0, payload.length]), payload]);
  const key = randomBytes(4);
  const out = Buffer.allocUnsafe(6 + payload.length);
  out[0] = b0;
  out[1] = 0x80 | payload.length;
  key.copy(out, 2);
  for (let i = 0; i < payload.length; i++) out[6 + i] = payload[i]! ^ key[i & 3]!;
  return out;
}
