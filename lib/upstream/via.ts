/**
 * `Via` (RFC 9110 §7.6.3): who the gateway says it is on the requests and responses it forwards,
 * and the loop check that reads it back. A request whose `Via` already names this gateway came
 * round in a circle (an instance registered at the gateway's own URL, two gateways pointing at
 * each other) and is refused with 508 before it is forwarded; one that passed more gateways than
 * the hop limit is refused too, which stops loops through gateways of different names.
 */
import { randomBytes } from 'node:crypto';
import { FleetgateError } from '../errors.js';

/**
 * This process's gateway id when none is configured: random, so two processes never share one,
 * and shared by every proxy in the process, so a loop through two of them is still seen.
 */
export const PROCESS_GATEWAY_ID = `fleetgate-${randomBytes(5).toString('hex')}`;

/** Default hop limit: a request already carrying this many `Via` entries is refused. */
export const DEFAULT_MAX_HOPS = 10;

/** What {@link inspectVia} returns when the gateway's own id is among the entries. */
export const VIA_LOOP = -1;

/** `received-by` must be a token (RFC 9110 §5.6.2) so the gateway can find itself again. */
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,64}$/;

/**
 * Whether `id` can name the gateway in `Via`: a token of at most 64 characters.
 * @example isGatewayId('edge-1') // true
 */
export function isGatewayId(id: unknown): id is string {
  return typeof id === 'string' && TOKEN.test(id);
}

/**
 * Counts the entries of a (possibly combined) `Via` value and looks for `ownId` among their
 * `received-by`. Comments (`(…)`, which may hold commas) are skipped.
 * @returns {@link VIA_LOOP} when `ownId` is there, else the number of entries.
 * @example inspectVia('1.1 a, HTTP/2 b (x, y)', 'c') // 2
 */
export function inspectVia(value: string, ownId: string): number {
  const n = value.length;
  let hops = 0;
  let i = 0;
  while (i < n) {
    // One entry: [protocol-name "/"] protocol-version RWS received-by [RWS comment]
    while (i < n && isSpace(value.charCodeAt(i))) i++;
    if (i >= n) break;
    if (value.charCodeAt(i) === 0x2c) {
      i++;
      continue;
    }
    hops++;
    while (i < n && !isSpace(value.charCodeAt(i)) && value.charCodeAt(i) !== 0x2c) i++;
    while (i < n && isSpace(value.charCodeAt(i))) i++;
    const from = i;
    while (i < n && !isSpace(value.charCodeAt(i)) && value.charCodeAt(i) !== 0x2c) i++;
    if (i - from === ownId.length && value.startsWith(ownId, from)) return VIA_LOOP;
    // The rest of the entry, up to a comma outside a comment.
    let depth = 0;
    while (i < n) {
      const c = value.charCodeAt(i);
      if (c === 0x28) depth++;
      else if (c === 0x29 && depth > 0) depth--;
      else if (c === 0x5c && depth > 0) i++;
      else if (c === 0x2c && depth === 0) break;
      i++;
    }
  }
  return hops;
}

function isSpace(c: number): boolean {
  return c === 0x20 || c === 0x09;
}

/**
 * The refusal for a request `inspectVia` judged: 508 `ERR_FG_LOOP_DETECTED`.
 * @param hops {@link VIA_LOOP} or the entry count that reached the limit.
 */
export function loopError(hops: number, gatewayId: string, maxHops: number): FleetgateError {
  return hops === VIA_LOOP
    ? new FleetgateError('ERR_FG_LOOP_DETECTED', `the request already passed through this gateway (${gatewayId})`)
    : new FleetgateError(
        'ERR_FG_LOOP_DETECTED',
        `the request already passed through ${hops} proxies (Via); the limit is ${maxHops}`,
        { details: { hops, max_hops: maxHops } },
      );
}

/** How a request was judged a loop, for metrics: `Via` names this gateway, or has too many entries. */
export type ViaLoopKind = 'own_via' | 'max_hops';

/**
 * The loop kind of a refusal made by {@link loopError}; `undefined` for any other error.
 * @example loopKindOf(loopError(VIA_LOOP, 'gw', 10)) // 'own_via'
 */
export function loopKindOf(error: FleetgateError): ViaLoopKind | undefined {
  if (error.code !== 'ERR_FG_LOOP_DETECTED') return undefined;
  return error.details === undefined ? 'own_via' : 'max_hops';
}
