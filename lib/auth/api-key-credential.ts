/**
 * Where a request carries its API key: a header (`X-API-Key` by default) or
 * `Authorization: ApiKey <key>`. Reading is bounded: a credential longer than
 * {@link MAX_API_KEY_LENGTH} is refused before anything hashes it.
 */
import type { IncomingMessage } from 'node:http';
import { MAX_API_KEY_LENGTH } from './api-key-spec.js';

/** What a request presented. */
export type PresentedKey =
  | { readonly state: 'none' }
  | { readonly state: 'malformed'; readonly reason: 'malformed' | 'too-large' }
  | { readonly state: 'key'; readonly key: string; readonly from: 'header' | 'authorization' };

const NONE: PresentedKey = Object.freeze({ state: 'none' });
const MALFORMED: PresentedKey = Object.freeze({ state: 'malformed', reason: 'malformed' });
const TOO_LARGE: PresentedKey = Object.freeze({ state: 'malformed', reason: 'too-large' });

/**
 * Reads the key. `header` is a lower-case header name or `false`; `scheme` a lower-case
 * Authorization scheme or `false`. A key sent both ways, repeated, empty, with spaces or control
 * characters is malformed; an Authorization header of another scheme (`Bearer`) is not a key.
 * @example presentedKey(req, 'x-api-key', 'apikey')
 */
export function presentedKey(req: IncomingMessage, header: string | false, scheme: string | false): PresentedKey {
  let fromHeader: PresentedKey = NONE;
  if (header !== false) {
    const raw = req.headers[header];
    if (raw !== undefined) fromHeader = typeof raw === 'string' ? check(raw, 'header') : MALFORMED;
  }
  let fromAuth: PresentedKey = NONE;
  if (scheme !== false) {
    const auth = req.headers.authorization;
    if (auth !== undefined && auth.length >= scheme.length && auth.slice(0, scheme.length).toLowerCase() === scheme) {
      // `ApiKey` alone (Node trims the spaces after it) is a key sent empty.
      if (auth.length === scheme.length) fromAuth = MALFORMED;
      else if (auth.charCodeAt(scheme.length) === 0x20)
        fromAuth = check(auth.slice(scheme.length + 1).trim(), 'authorization');
    }
  }
  if (fromHeader.state === 'none') return fromAuth;
  if (fromAuth.state === 'none') return fromHeader;
  return MALFORMED;
}

function check(value: string, from: 'header' | 'authorization'): PresentedKey {
  if (value.length > MAX_API_KEY_LENGTH) return TOO_LARGE;
  if (value.length === 0) return MALFORMED;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c < 0x21 || c > 0x7e) return MALFORMED;
  }
  return { state: 'key', key: value, from };
}
