/**
 * The message-routing frame protocol (Eurus model), in one place for both sides:
 *
 * - client → gateway → service: `{"path":"/chat/room1","id":7,"data":{...}}`
 * - service → gateway → client: `{"id":7,"data":{...}}` or `{"id":7,"error":{"code","message"}}`;
 *   frames without an `id` are pushes and are relayed as they are.
 * - gateway → client errors: `{"id":7,"error":{"code":"ERR_FG_…","message","service"?}}`, with
 *   `"id":null` when the frame had no usable id, and without `id` for a service-level event
 *   (the pinned instance went away).
 */
import type { ErrorCode } from '../errors.js';

/** A message id: a string or a finite number, chosen by the client. */
export type MessageId = string | number;

/** A valid client frame. */
export interface ClientFrame {
  path: string;
  id: MessageId;
  data: unknown;
}

/** The result of {@link parseClientFrame}. */
export type ParsedFrame = { ok: true; frame: ClientFrame } | { ok: false; id: MessageId | null; message: string };

/** Longest accepted `path`. */
const MAX_PATH = 2048;
/** Longest accepted string `id`. */
const MAX_ID = 256;

/**
 * Parses and validates a client's text frame.
 * @example parseClientFrame('{"path":"/chat/x","id":1,"data":"hi"}') // { ok: true, frame: {...} }
 */
export function parseClientFrame(text: string): ParsedFrame {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { ok: false, id: null, message: 'the frame is not valid JSON' };
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    return { ok: false, id: null, message: 'the frame must be a JSON object {"path","id","data"}' };
  }
  const v = value as Record<string, unknown>;
  const id = isMessageId(v.id) ? v.id : null;
  if (id === null) {
    return { ok: false, id: null, message: '"id" must be a string (≤ 256 chars) or a finite number' };
  }
  if (typeof v.path !== 'string' || !v.path.startsWith('/') || v.path.length > MAX_PATH) {
    return { ok: false, id, message: '"path" must be a string starting with "/" (≤ 2048 chars)' };
  }
  return { ok: true, frame: { path: v.path, id, data: v.data } };
}

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
 * A gateway error frame for the client. `id` undefined leaves the `id` out (a service-level event).
 * @example errorFrame(7, 'ERR_FG_NO_ROUTE', 'no message route for /x') // '{"id":7,"error":{...}}'
 */
export function errorFrame(
  id: MessageId | null | undefined,
  code: ErrorCode,
  message: string,
  extra: ErrorFrameExtra = {},
): string {
  const error = { code, message, ...extra };
  return JSON.stringify(id === undefined ? { error } : { id, error });
}

/**
 * The `id` of a service's reply, read without trusting the frame; `undefined` when it has none.
 */
export function replyIdOf(text: string): MessageId | undefined {
  try {
    const v = JSON.parse(text) as { id?: unknown } | null;
    return v !== null && typeof v === 'object' && isMessageId(v.id) ? v.id : undefined;
  } catch {
    return undefined;
  }
}
