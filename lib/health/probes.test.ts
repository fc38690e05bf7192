import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { type AddressInfo, createServer as createTcpServer } from 'node:net';
import { describe, it } from 'node:test';
import { createDefaultProbe, healthUrl, httpProbe, tcpProbe } from './probes.js';

async function listen(server: Server | ReturnType<typeof createTcpServer>): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

async function closed(server: Server | ReturnType<typeof createTcpServer>): Promise<void> {
  if ('closeAllConnections' in server) server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
}

/** A port nothing listens on: bound, then released. */
async function freePort(): Promise<number> {
  const s = createTcpServer();
  const port = await listen(s);
  await closed(s);
  return port;
}

describe('probes', () => {
  it('joins the health endpoint to the base URL', () => {
    assert.equal(healthUrl({ url: 'http://h:1/', healthEndpoint: '/health' }), 'http://h:1/health');
    assert.equal(healthUrl({ url: 'http://h:1', healthEndpoint: 'status' }), 'http://h:1/status');
    assert.equal(healthUrl({ url: 'http://h:1', healthEndpoint: 'http://other:2/hc' }), 'http://other:2/hc');
    assert.equal(healthUrl({ url: 'http://h:1' }), undefined);
  });

  it('HTTP: 2xx and 3xx are healthy, 5xx and refused connections are not', async () => {
    const server = createServer((req, res) => {
      const code = Number(req.url?.slice(1)) || 200;
      res.writeHead(code, code === 302 ? { location: '/elsewhere' } : {}).end('x');
    });
    const port = await listen(server);
    try {
      const at = (code: number) => httpProbe(`http://127.0.0.1:${port}/${code}`, AbortSignal.timeout(5000));
      const [ok, redirect, broken] = await Promise.all([at(204), at(302), at(503)]);
      assert.equal(ok.healthy, true);
      assert.equal(ok.statusCode, 204);
      assert.ok(ok.responseTimeMs >= 0);
      assert.equal(redirect.healthy, true);
      assert.deepEqual(
        { ...broken, responseTimeMs: 0 },
        { healthy: false, statusCode: 503, error: 'HTTP 503', responseTimeMs: 0 },
      );
    } finally {
      await closed(server);
    }
    const refused = await httpProbe(`http://127.0.0.1:${await freePort()}/health`, AbortSignal.timeout(5000));
    assert.equal(refused.healthy, false);
    assert.equal(refused.error, 'ECONNREFUSED');
  });

  it('HTTP: an abort ends a hanging probe as unhealthy', async () => {
    const server = createServer(() => {}); // never answers
    const port = await listen(server);
    try {
      const ac = new AbortController();
      const pending = httpProbe(`http://127.0.0.1:${port}/health`, ac.signal);
      ac.abort();
      const r = await pending;
      assert.equal(r.healthy, false);
    } finally {
      await closed(server);
    }
  });

  it('TCP: connect succeeds on a listening port, fails on a closed one, and honours abort', async () => {
    const server = createTcpServer((socket) => socket.destroy());
    const port = await listen(server);
    try {
      assert.equal((await tcpProbe(`http://127.0.0.1:${port}`, AbortSignal.timeout(5000))).healthy, true);
      const aborted = new AbortController();
      aborted.abort();
      assert.deepEqual((await tcpProbe(`http://127.0.0.1:${port}`, aborted.signal)).error, 'aborted');
    } finally {
      await closed(server);
    }
    const r = await tcpProbe(`http://127.0.0.1:${await freePort()}`, AbortSignal.timeout(5000));
    assert.equal(r.healthy, false);
    assert.equal(r.error, 'ECONNREFUSED');
    assert.equal((await tcpProbe('not a url', AbortSignal.timeout(5000))).healthy, false);
  });

  it('the default probe uses HTTP with a health endpoint and TCP without', async () => {
    const paths: string[] = [];
    const server = createServer((req, res) => {
      paths.push(req.url ?? '');
      res.end('ok');
    });
    const port = await listen(server);
    try {
      const probe = createDefaultProbe();
      const url = `http://127.0.0.1:${port}`;
      assert.equal((await probe({ url, healthEndpoint: '/hc' }, AbortSignal.timeout(5000))).statusCode, 200);
      const tcp = await probe({ url }, AbortSignal.timeout(5000));
      assert.equal(tcp.healthy, true);
      assert.equal(tcp.statusCode, undefined);
      assert.deepEqual(paths, ['/hc']);
    } finally {
      await closed(server);
    }
  });
});
