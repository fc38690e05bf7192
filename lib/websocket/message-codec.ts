/**
 * The two wire encodings of message routing, negotiated per client connection by WebSocket
 * subprotocol: `fleetgate.json` (text frames, the default when none is asked for) and
 * `fleetgate.msgpack` (binary frames, `@msgpack/msgpack`). The gateway opens the client's links
 * to services with the same subprotocol, so frames are relayed byte for byte in either encoding;
 * it only scans `path` and `id`, and decodes a whole frame only to rewrite an id.
 */
import { decode, encode } from '@msgpack/msgpack';
import { scanJsonFrame } from './json-frame-scan.js';
import type { FrameFields } from './message-frames.js';
import { scanMsgpackFrame } from './msgpack-frame-scan.js';

/** One encoding of message frames. */
export interface MessageCodec {
  /** `json` or `msgpack`. */
  readonly name: 'json' | 'msgpack';
  /** The `Sec-WebSocket-Protocol` value that selects it. */
  readonly subprotocol: string;
  /** Whether its frames are binary (MessagePack) or text (JSON). */
  readonly binary: boolean;
  /** Reads `path` and `id` without decoding the rest. */
  scan(frame: Buffer): FrameFields;
  /** Encodes a whole frame. */
  encode(value: unknown): string | Buffer;
  /** Decodes a whole frame; throws on malformed input. */
  decode(frame: Buffer): unknown;
  /** The frame with some top-level fields replaced (decodes and re-encodes: the rare path). */
  patch(frame: Buffer, fields: Record<string, unknown>): string | Buffer;
}

/** JSON text frames. */
export const JSON_CODEC: MessageCodec = Object.freeze({
  name: 'json',
  subprotocol: 'fleetgate.json',
  binary: false,
  scan: scanJsonFrame,
  encode: (value: unknown) => JSON.stringify(value),
  decode: (frame: Buffer) => JSON.parse(frame.toString('utf8')) as unknown,
  patch: (frame: Buffer, fields: Record<string, unknown>) =>
    JSON.stringify({ ...(JSON.parse(frame.toString('utf8')) as object), ...fields }),
});

/** MessagePack binary frames. */
export const MSGPACK_CODEC: MessageCodec = Object.freeze({
  name: 'msgpack',
  subprotocol: 'fleetgate.msgpack',
  binary: true,
  scan: scanMsgpackFrame,
  encode: (value: unknown) => toBuffer(encode(value)),
  decode: (frame: Buffer) => decode(frame),
  patch: (frame: Buffer, fields: Record<string, unknown>) =>
    toBuffer(encode({ ...(decode(frame) as object), ...fields })),
});

function toBuffer(u: Uint8Array): Buffer {
  return Buffer.from(u.buffer, u.byteOffset, u.byteLength);
}

/** The codecs by subprotocol, in order of preference when a client offers several. */
export const MESSAGE_CODECS: readonly MessageCodec[] = Object.freeze([JSON_CODEC, MSGPACK_CODEC]);

/**
 * The subprotocol to answer a client offering `offered` (ws' `handleProtocols`): the first one
 * the client listed that fleetgate speaks, or `false` (no subprotocol: JSON).
 * @example selectSubprotocol(new Set(['fleetgate.msgpack'])) // 'fleetgate.msgpack'
 */
export function selectSubprotocol(offered: ReadonlySet<string>): string | false {
  for (const p of offered) if (MESSAGE_CODECS.some((c) => c.subprotocol === p)) return p;
  return false;
}

/**
 * The codec of a connection given its negotiated subprotocol (`''` when none: JSON).
 * @example codecFor(ws.protocol).encode({ id: 1, data: 'hi' })
 */
export function codecFor(subprotocol: string): MessageCodec {
  return subprotocol === MSGPACK_CODEC.subprotocol ? MSGPACK_CODEC : JSON_CODEC;
}
