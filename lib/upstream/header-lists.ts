/**
 * Flat `[name, value, …]` header lists after they are built (lib/upstream/proxy-headers.ts): body
 * framing replaced when a parsed body is re-serialised, and the response head written without
 * losing repeated names.
 */
import type { ServerResponse } from 'node:http';

/**
 * Replaces the body framing headers after the body was re-serialised: drops `Content-Length`
 * and `Content-Encoding` (the parser already decoded it) and sets the new length.
 */
export function setBodyHeaders(headers: string[], length: number, contentType?: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < headers.length; i += 2) {
    const lower = headers[i]!.toLowerCase();
    if (lower === 'content-length' || lower === 'content-encoding') continue;
    if (contentType !== undefined && lower === 'content-type') continue;
    out.push(headers[i]!, headers[i + 1]!);
  }
  out.push('content-length', String(length));
  if (contentType !== undefined) out.push('content-type', contentType);
  return out;
}

/**
 * `res.writeHead(status, flatArray)`, keeping repeated names (`Set-Cookie`) even when a framework
 * already set headers (Express's `X-Powered-By`): Node then merges pair by pair through
 * `setHeader`, which would keep only the last value of a repeated name, so repeats are grouped
 * into one array value first. Names the upstream sends override preset ones.
 */
export function writeHeadArray(res: ServerResponse, status: number, headers: string[]): void {
  if (res.getHeaderNames().length === 0) {
    res.writeHead(status, headers);
    return;
  }
  res.writeHead(status, groupRepeats(headers));
}

/** `[a, 1, b, 2, a, 3]` → `[a, [1, 3], b, 2]` (case-insensitive names); the input when nothing repeats. */
function groupRepeats(headers: string[]): (string | string[])[] {
  const n = headers.length;
  let repeats = false;
  const lower: string[] = new Array(n / 2);
  for (let i = 0; i < n; i += 2) {
    const name = headers[i]!.toLowerCase();
    for (let j = 0; j < i / 2 && !repeats; j++) if (lower[j] === name) repeats = true;
    lower[i / 2] = name;
  }
  if (!repeats) return headers;
  const out: (string | string[])[] = [];
  const at = new Map<string, number>();
  for (let i = 0; i < n; i += 2) {
    const name = lower[i / 2]!;
    const seen = at.get(name);
    if (seen === undefined) {
      at.set(name, out.length);
      out.push(headers[i]!, headers[i + 1]!);
    } else {
      const prev = out[seen + 1]!;
      out[seen + 1] = Array.isArray(prev) ? [...prev, headers[i + 1]!] : [prev, headers[i + 1]!];
    }
  }
  return out;
}
