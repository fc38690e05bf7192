import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { connect } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { normalizeRequestTarget } from './normalize-target.js';

/** Sends `head` on a raw socket and returns the status line and body of the answer. */
async function rawRequest(port: number, head: string): Promise<{ status: number; body: string }> {
  const socket = connect(port, '127.0.0.1');
  await once(socket, 'connect');
  socket.end(head);
  const chunks: Buffer[] = [];
  for await (const chunk of socket) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  return { status: Number(text.slice(9, 12)), body: text.slice(text.indexOf('\r\n\r\n') + 4) };
}

describe('normalizeRequestTarget', () => {
  let server: Server;
  let port: number;
  const seen: string[] = [];

  before(async () => {
    server = createServer((req, res) => {
      if (!normalizeRequestTarget(req, res)) return;
      seen.push(`${req.method} ${req.url}`);
      res.end('handled');
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    port = (server.address() as AddressInfo).port;
  });

  after(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('hands on the normalised target, dropping a reserved path’s trailing slash only', async () => {
    seen.length = 0;
    await rawRequest(port, 'GET //health/ HTTP/1.1\r\nHost: gw\r\nConnection: close\r\n\r\n');
    await rawRequest(port, 'GET /api/./items/ HTTP/1.1\r\nHost: gw\r\nConnection: close\r\n\r\n');
    assert.deepEqual(seen, ['GET /health', 'GET /api/items/']);
  });

  it('answers 400 ERR_FG_BAD_PATH for an encoded slash, without calling the handler', async () => {
    seen.length = 0;
    const res = await rawRequest(port, 'GET /a%2Fb HTTP/1.1\r\nHost: gw\r\nConnection: close\r\n\r\n');
    assert.equal(res.status, 400);
    assert.match(res.body, /ERR_FG_BAD_PATH/);
    assert.deepEqual(seen, []);
  });

  it('refuses TRACE on every spelling of the gateway’s own endpoints with 405', async () => {
    seen.length = 0;
    for (const target of ['/health', '//health/', '/%69nternal/services', '/_fleetgate/explain', '/metrics']) {
      const res = await rawRequest(port, `TRACE ${target} HTTP/1.1\r\nHost: gw\r\nConnection: close\r\n\r\n`);
      assert.equal(res.status, 405, target);
      assert.match(res.body, /ERR_FG_METHOD_NOT_ALLOWED/);
    }
    assert.deepEqual(seen, []);
  });

  it('refuses two Host headers on the gateway’s own endpoints with 400', async () => {
    seen.length = 0;
    const res = await rawRequest(port, 'GET /health HTTP/1.1\r\nHost: a\r\nhost: b\r\nConnection: close\r\n\r\n');
    assert.equal(res.status, 400);
    assert.match(res.body, /ERR_FG_BAD_HEADER/);
    assert.deepEqual(seen, []);
  });

  it('leaves method and Host checks of service paths to the proxy', async () => {
    seen.length = 0;
    await rawRequest(port, 'TRACE /api/items HTTP/1.1\r\nHost: gw\r\nConnection: close\r\n\r\n');
    assert.deepEqual(seen, ['TRACE /api/items']);
  });
});
