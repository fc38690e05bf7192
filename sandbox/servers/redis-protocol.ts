/**
 * A minimal one-shot RESP client for the harness's own readiness and cluster checks. It opens
 * a connection, sends one command, reads one reply and closes: no reconnects, no queues, so a
 * probe against a dead server fails at once instead of waiting inside a client library.
 */
import { connect } from 'node:net';

/** A parsed RESP reply. Errors are thrown, not returned. */
export type RespValue = string | number | null | RespValue[];

/** Thrown for a `-ERR ...` reply. */
export class RespError extends Error {
  override readonly name = 'RespError';
}

function encode(args: readonly (string | number)[]): string {
  let out = `*${args.length}\r\n`;
  for (const a of args) {
    const s = String(a);
    out += `$${Buffer.byteLength(s)}\r\n${s}\r\n`;
  }
  return out;
}

/** Parses one reply at `pos`; returns `undefined` when more bytes are needed. */
function parse(buf: Buffer, pos: number): { value: RespValue | RespError; end: number } | undefined {
  const eol = buf.indexOf('\r\n', pos);
  if (eol < 0) return undefined;
  const type = String.fromCharCode(buf[pos]!);
  const line = buf.toString('utf8', pos + 1, eol);
  switch (type) {
    case '+':
      return { value: line, end: eol + 2 };
    case '-':
      return { value: new RespError(line), end: eol + 2 };
    case ':':
      return { value: Number(line), end: eol + 2 };
    case '$': {
      const len = Number(line);
      if (len < 0) return { value: null, end: eol + 2 };
      if (buf.length < eol + 2 + len + 2) return undefined;
      return { value: buf.toString('utf8', eol + 2, eol + 2 + len), end: eol + 2 + len + 2 };
    }
    case '*': {
      const n = Number(line);
      if (n < 0) return { value: null, end: eol + 2 };
      const items: RespValue[] = [];
      let at = eol + 2;
      for (let i = 0; i < n; i++) {
        const item = parse(buf, at);
        if (item === undefined) return undefined;
        if (item.value instanceof RespError) return item;
        items.push(item.value);
        at = item.end;
      }
      return { value: items, end: at };
    }
    default:
      return { value: new RespError(`unexpected RESP type ${JSON.stringify(type)}`), end: buf.length };
  }
}

/**
 * Sends one command to `127.0.0.1:port` (or `host`) and resolves its reply.
 * @example const info = await redisCommand(6379, ['CLUSTER', 'INFO']);
 */
export function redisCommand(
  port: number,
  args: readonly (string | number)[],
  options: { host?: string; timeoutMs?: number } = {},
): Promise<RespValue> {
  return new Promise((resolve, reject) => {
    const socket = connect({ port, host: options.host ?? '127.0.0.1' });
    let buf = Buffer.alloc(0);
    const done = (err: Error | undefined, value?: RespValue): void => {
      socket.destroy();
      if (err !== undefined) reject(err);
      else resolve(value ?? null);
    };
    socket.setTimeout(options.timeoutMs ?? 1000, () => done(new Error(`redis ${args[0]} on port ${port} timed out`)));
    socket.once('error', (err) => done(err));
    socket.on('data', (chunk) => {
      buf = Buffer.concat([buf, chunk]);
      const reply = parse(buf, 0);
      if (reply === undefined) return;
      if (reply.value instanceof RespError) done(reply.value);
      else done(undefined, reply.value);
    });
    socket.write(encode(args));
  });
}

/** Parses `key:value` lines (INFO, CLUSTER INFO) into a map. */
export function parseInfo(text: RespValue): Map<string, string> {
  const out = new Map<string, string>();
  if (typeof text !== 'string') return out;
  for (const line of text.split('\r\n')) {
    const i = line.indexOf(':');
    if (i > 0) out.set(line.slice(0, i), line.slice(i + 1));
  }
  return out;
}
