/**
 * A minimal keep-alive HTTP/1.1 client for benches: one request at a time on one TCP connection,
 * the request written as prepared bytes, the response read by its `Content-Length`. It does what
 * bench/scale.ts needs of a client and nothing else, so that a bench's clients cost little CPU
 * beside the server they measure (undici's full client costs about as much as the gateway's own
 * handling of a registration). Chunked responses are not supported and fail the request.
 */
import { connect, type Socket } from 'node:net';

/** A response: status and body text. */
export interface RawResponse {
  status: number;
  body: string;
}

const HEADER_END = Buffer.from('\r\n\r\n');
const CONTENT_LENGTH = /\r\ncontent-length:\s*(\d+)/i;
const CLOSE = /\r\nconnection:\s*close/i;

/**
 * One keep-alive connection. Reconnects when the server closed it (or asked to).
 * @example const c = new RawHttpConnection('127.0.0.1', port); const r = await c.send(rawPost(...));
 */
export class RawHttpConnection {
  readonly #host: string;
  readonly #port: number;
  #socket: Socket | undefined;
  #buffered: Buffer = Buffer.alloc(0);
  #waiting: { resolve: (r: RawResponse) => void; reject: (e: Error) => void } | undefined;
  #opened = 0;

  constructor(host: string, port: number) {
    this.#host = host;
    this.#port = port;
  }

  /** Sends one request (complete bytes) and resolves with its response. */
  send(request: Buffer): Promise<RawResponse> {
    if (this.#waiting !== undefined) throw new Error('one request at a time per connection');
    const socket = this.#socket ?? this.#open();
    return new Promise((resolve, reject) => {
      this.#waiting = { resolve, reject };
      socket.write(request);
    });
  }

  /** TCP connections opened so far (a reconnect after the server closed one counts again). */
  get opened(): number {
    return this.#opened;
  }

  /** Closes the connection. */
  close(): void {
    this.#socket?.destroy();
    this.#socket = undefined;
  }

  #open(): Socket {
    this.#opened++;
    const socket = connect(this.#port, this.#host);
    socket.setNoDelay(true);
    this.#buffered = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => this.#onData(chunk));
    const fail = (err: Error): void => {
      if (this.#socket !== socket) return; // an old connection; its request was already answered
      this.#socket = undefined;
      const w = this.#waiting;
      this.#waiting = undefined;
      w?.reject(err);
    };
    socket.on('error', fail);
    socket.on('close', () => fail(new Error('connection closed before the response')));
    this.#socket = socket;
    return socket;
  }

  #onData(chunk: Buffer): void {
    this.#buffered = this.#buffered.length === 0 ? chunk : Buffer.concat([this.#buffered, chunk]);
    const end = this.#buffered.indexOf(HEADER_END);
    if (end < 0) return;
    const head = this.#buffered.toString('latin1', 0, end);
    const length = CONTENT_LENGTH.exec(head);
    if (length === null) {
      this.#finish(new Error(`no content-length in ${head.split('\r\n', 1)[0]}`));
      return;
    }
    const bodyEnd = end + 4 + Number(length[1]);
    if (this.#buffered.length < bodyEnd) return;
    const status = Number(head.slice(9, 12));
    const body = this.#buffered.toString('utf8', end + 4, bodyEnd);
    this.#buffered = this.#buffered.subarray(bodyEnd);
    if (CLOSE.test(head)) this.close();
    this.#finish(undefined, { status, body });
  }

  #finish(err: Error | undefined, response?: RawResponse): void {
    const w = this.#waiting;
    this.#waiting = undefined;
    if (err !== undefined) {
      this.close();
      w?.reject(err);
    } else w?.resolve(response!);
  }
}

/**
 * The bytes of a `POST` with a JSON body, prepared once.
 * @example rawPost('127.0.0.1:8080', '/internal/register-service', '{"service":"a"}')
 */
export function rawPost(host: string, path: string, json: string): Buffer {
  const body = Buffer.from(json);
  const head = `POST ${path} HTTP/1.1\r\nhost: ${host}\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\n\r\n`;
  return Buffer.concat([Buffer.from(head, 'latin1'), body]);
}

/**
 * The bytes of a body-less `PUT` with extra headers (e.g. a heartbeat with its instance token).
 * @example rawPut('127.0.0.1:8080', '/internal/services/a/instances/a-1/heartbeat', { 'x-instance-token': t })
 */
export function rawPut(host: string, path: string, headers: Record<string, string>): Buffer {
  let head = `PUT ${path} HTTP/1.1\r\nhost: ${host}\r\n`;
  for (const [name, value] of Object.entries(headers)) head += `${name}: ${value}\r\n`;
  return Buffer.from(`${head}content-length: 0\r\n\r\n`, 'latin1');
}
