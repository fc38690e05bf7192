import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { connect } from 'node:net';
import { describe, it } from 'node:test';
import { applyServerLimits, resolveServerLimits, SERVER_LIMITS_DEFAULTS, serverOptionsFor } from './server-limits.js';

describe('server limits', () => {
  it('has production defaults, frozen, and validates overrides', () => {
    assert.ok(Object.isFrozen(SERVER_LIMITS_DEFAULTS));
    assert.deepEqual(resolveServerLimits(), {
      headersTimeoutMs: 15_000,
      requestTimeoutMs: 60_000,
      keepAliveTimeoutMs: 5_000,
      maxHeaderSize: 16_384,
      maxConnections: 10_000,
    });
    assert.equal(resolveServerLimits({ requestTimeoutMs: 2000 }).headersTimeoutMs, 2000, 'head within the request');
    assert.equal(resolveServerLimits({ headersTimeoutMs: 5000, requestTimeoutMs: 2000 }).headersTimeoutMs, 2000);
    for (const bad of [0, -1, 1.5, Number.NaN]) {
      assert.throws(() => resolveServerLimits({ maxConnections: bad }), { code: 'ERR_FG_INVALID_CONFIG' });
    }
    const opts = serverOptionsFor(resolveServerLimits());
    assert.equal(opts.requestTimeout, 60_000);
    assert.equal(opts.connectionsCheckingInterval, 1000, 'Node would check only every 30 s');
  });

  it('cuts a client sending its body slowly at the request timeout (real time, short settings)', async () => {
    const limits = resolveServerLimits({ requestTimeoutMs: 600, headersTimeoutMs: 300 });
    const server = createServer(serverOptionsFor(limits), (req, res) => {
      req.resume();
      req.on('end', () => res.end('done'));
    });
    applyServerLimits(server, limits);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as { port: number }).port;
    try {
      const socket = connect(port, '127.0.0.1');
      let answer = '';
      socket.setEncoding('utf8').on('data', (d: string) => {
        answer += d;
      });
      socket.write('POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n');
      const timer = setInterval(() => socket.write('a'), 100);
      const started = performance.now();
      await new Promise<void>((resolve) => socket.once('close', () => resolve()));
      clearInterval(timer);
      const took = performance.now() - started;
      assert.match(answer, /^HTTP\/1\.1 408/);
      assert.ok(took < 5000, `cut after ${Math.round(took)} ms`);
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('caps open connections', async () => {
    const server = createServer((_req, res) => res.end('ok'));
    applyServerLimits(server, resolveServerLimits({ maxConnections: 1 }));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as { port: number }).port;
    try {
      const first = connect(port, '127.0.0.1');
      await new Promise((resolve) => first.once('connect', resolve));
      const deadline = Date.now() + 2000;
      await new Promise<void>((resolve, reject) => {
        const check = (): void => {
          server.getConnections((_e, n) => {
            if (n === 1) resolve();
            else if (Date.now() > deadline) reject(new Error('the first connection was never accepted'));
            else setTimeout(check, 5);
          });
        };
        check();
      });
      const second = connect(port, '127.0.0.1');
      second.on('error', () => {});
      await new Promise((resolve) => second.once('close', resolve));
      first.destroy();
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
