/**
 * The message-routing frame protocol (Eurus model), in one place for both sides:
 *
 * - client → gateway → service: `{"path":"/chat/room1","id":7,"data":{...}}`
 * - service → gateway → client: `{"id":7,"data":{...}}` or `{"id":7,"error":{"code","message"}}`;
 *   frames without an `id` are pushes and are relayed as they are.
 * - service → gateway → client, a server-initiated request: `{"path":"/monitor/start","id":…,"data"}`;
 *   the gateway gives it an id of its own, and the client's answer `{"id":…,"data"}` (no `path`)
 *   goes back to the asking instance only.
 * - gateway → client errors: `{"id":7,"error":{"code":"ERR_FG_…","message","service"?}}`, with
 *   `"id":null` when the frame had no usable id, and without `id` for a service-level event
 *   (the pinned instance went away).
 *
 * Frames are JSON text or MessagePack binary (message-codec.ts); the gateway reads only `path`
 * and `id` (json-frame-scan.ts, msgpack-frame-scan.ts).
 */

/** A message id: a string or a finite number, chosen by whoever asks. */
export type MessageId = string | number;

/** Longest accepted `path`. */
export const MAX_PATH = 2048;
/** Longest accepted string `id`. */
export const MAX_ID = 256;

/**
 * The routing fields of a frame as a scanner read them. `undefined`: the field is absent; `null`:
 * it is present but unusable (`path` not a string or too long, `id` neither a string ≤ 256 chars
 * nor a finite number). `ok: false` when the frame is not an object of the codec at all.
 */
export type FrameFields =
  | { ok: true; path: string | null | undefined; id: MessageId | null | undefined }
  | { ok: false; id: MessageId | null; message: string };

/** Whether `v` can be a message id. */
export function isMessageId(v: unknown): v is MessageId {
  return (typeof v === 'string' && v.length <= MAX_ID) || (typeof v === 'number' && Number.isFinite(v));
}

/** Extra fields of an error frame's `error` object. */
export interface ErrorFrameExtra {
  /** The service the error is about. */
  service?: string;
}

/**
 * A gateway error frame's value; `id` undefined leaves the `id` out (a service-level event).
 * Encode it with the connection's codec.
 * @example codec.encode(errorFrame(7, 'ERR_FG_NO_ROUTE', 'no message route for /x'))
 */
export function errorFrame(
  id: MessageId | null | undefined,
  code: string,
  message: string,
  extra: ErrorFrameExtra = {},
): Record<string, unknown> {
  const error = { code, message, ...extra };
  return id === undefined ? { error } : { id, error };
}
