/**
 * HTTP/1.1 over a bare `node:net` socket, for requests no HTTP client will send: repeated `Host`,
 * `Connection` naming forwarding headers, `TRACE`, hand-made WebSocket handshakes. The request
 * should carry `Connection: close` (or be an upgrade the server refuses) so the answer ends when
 * the socket does.
 */
import { connect } from 'node:net';

/** A parsed answer. */
export interface RawHttpResponse {
  status: number;
  /** Lower-cased name → every value, in order. */
  headers: Map<string, string[]>;
  body: string;
  /** Everything the server sent. */
  raw: string;
}

/**
 * Sends `head` (lines joined with CRLF, the blank line added) and reads until the server closes.
 * @example await rawHttp(port, ['TRACE /x HTTP/1.1', 'Host: a', 'Connection: close'])
 */
export function rawHttp(port: number, head: readonly string[], timeoutMs = 5000): Promise<RawHttpResponse> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no complete answer within ${timeoutMs} ms: ${Buffer.concat(chunks).toString('latin1')}`));
    }, timeoutMs);
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('error', () => {});
    socket.on('close', () => {
      clearTimeout(timer);
      const raw = Buffer.concat(chunks).toString('latin1');
      const parsed = parseResponse(raw);
      if (parsed === undefined) reject(new Error(`not an HTTP response: ${JSON.stringify(raw.slice(0, 200))}`));
      else resolve(parsed);
    });
    socket.write(`${head.join('\r\n')}\r\n\r\n`);
  });
}

function parseResponse(raw: string): RawHttpResponse | undefined {
  const end = raw.indexOf('\r\n\r\n');
  if (end === -1) return undefined;
  const [statusLine = '', ...lines] = raw.slice(0, end).split('\r\n');
  const m = /^HTTP\/1\.[01] (\d{3})/.exec(statusLine);
  if (m === null) return undefined;
  const headers = new Map<string, string[]>();
  for (const line of lines) {
    const colon = line.indexOf(':');
    const name = line.slice(0, colon).trim().toLowerCase();
    headers.set(name, [...(headers.get(name) ?? []), line.slice(colon + 1).trim()]);
  }
  let body = raw.slice(end + 4);
  if (headers.get('transfer-encoding')?.[0] === 'chunked') body = unchunk(body);
  return { status: Number(m[1]), headers, body, raw };
}

function unchunk(text: string): string {
  let out = '';
  let at = 0;
  for (let guard = 0; guard < 10_000; guard++) {
    const eol = text.indexOf('\r\n', at);
    if (eol === -1) break;
    const size = Number.parseInt(text.slice(at, eol), 16);
    if (!(size > 0)) break;
    out += text.slice(eol + 2, eol + 2 + size);
    at = eol + 2 + size + 2;
  }
  return out;
}
