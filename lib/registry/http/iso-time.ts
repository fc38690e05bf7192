/**
 * ISO 8601 text of a time in ms, as `new Date(ms).toISOString()` writes it, at a fraction of its
 * cost when times fall in the same second as the last one formatted: every heartbeat answer
 * carries its new `expires_at`, and hundreds of them a second share the text up to the
 * milliseconds. The second's text is formatted once and the three millisecond digits appended.
 */

/** The second (ms / 1000, floored) whose text {@link secondText} holds; NaN: none yet. */
let second = Number.NaN;
/** `YYYY-MM-DDTHH:mm:ss.` of {@link second}. */
let secondText = '';

/**
 * `new Date(ms).toISOString()`, the same text for every time it accepts, and the same RangeError
 * for a time it refuses (not finite, or beyond ±8.64e15).
 * @example isoTime(0) // '1970-01-01T00:00:00.000Z'
 */
export function isoTime(ms: number): string {
  // Date keeps whole milliseconds, truncated toward zero.
  const t = Math.trunc(ms);
  const s = Math.floor(t / 1000);
  if (s !== second) {
    const full = new Date(t).toISOString(); // throws for what Date refuses, as before
    // Years outside 0000–9999 are written with a sign and six digits: no prefix to share.
    if (full.length !== 24) return full;
    second = s;
    secondText = full.slice(0, 20);
    return full;
  }
  const milli = t - s * 1000;
  return `${secondText}${milli < 10 ? '00' : milli < 100 ? '0' : ''}${milli}Z`;
}
