import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, test } from 'node:test';
import { errorResponse, sendJson } from '../core/send-error.js';
import { FleetgateError } from '../errors.js';
import { compose, type Middleware } from './compose.js';
import { readJsonBody } from './read-json-body.js';

async function serve(handler: Parameters<typeof createServer>[1]): Promise<{ server: Server; base: string }> {
  const server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, base: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

async function stop(server: Server): Promise<void> {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
}

describe('compose', () => {
  test('runs middlewares in order; errors (thrown, rejected, passed) become JSON errors; the end is a 404', async () => {
    const seen: string[] = [];
    const log: unknown[] = [];
    const chain: Middleware[] = [
      (req, _res, next) => {
        seen.push(`a ${req.url}`);
        next();
      },
      (req, _res, next) => {
        if (req.url === '/throw') throw new Error('secret internals');
        if (req.url === '/coded') return next(new FleetgateError('ERR_FG_FORBIDDEN', 'no'));
        next();
      },
      async (req, _res, next) => {
        await Promise.resolve();
        if (req.url === '/reject') throw new FleetgateError('ERR_FG_CLOSED', 'closed');
        next();
      },
      (req, res, next) => {
        if (req.url === '/ok') return sendJson(res, 200, { ok: true });
        next();
      },
    ];
    const { server, base } = await serve(
      compose(chain, { logger: { info: () => {}, warn: () => {}, error: (...a: unknown[]) => log.push(a) } }),
    );
    try {
      assert.deepEqual(await (await fetch(`${base}/ok`)).json(), { ok: true });
      const thrown = await fetch(`${base}/throw`);
      assert.equal(thrown.status, 500);
      const body = (await thrown.json()) as { error: { code: string; message: string } };
      assert.equal(body.error.code, 'ERR_FG_INTERNAL');
      assert.doesNotMatch(body.error.message, /secret/);
      assert.equal(log.length, 1, 'the unexpected error is logged');
      assert.equal((await fetch(`${base}/coded`)).status, 403);
      const rejected = await fetch(`${base}/reject`);
      assert.equal(rejected.status, 503);
      assert.equal(((await rejected.json()) as { error: { code: string } }).error.code, 'ERR_FG_CLOSED');
      const missing = await fetch(`${base}/nothing?x=1`);
      assert.equal(missing.status, 404);
      assert.equal(((await missing.json()) as { error: { code: string } }).error.code, 'ERR_FG_NOT_FOUND');
      assert.ok(seen.includes('a /ok'));
    } finally {
      await stop(server);
    }
  });

  test('given an outer next, hands unhandled requests and errors to it', () => {
    const handler = compose([(_req, _res, next) => next()]);
    let outer: unknown = 'not called';
    handler({} as IncomingMessage, {} as never, (err) => {
      outer = err;
    });
    assert.equal(outer, undefined);
    const failing = compose([() => Promise.reject(new Error('x'))]);
    return new Promise<void>((resolve) => {
      failing({} as IncomingMessage, {} as never, (err) => {
        assert.match(String(err), /x/);
        resolve();
      });
    });
  });
});

describe('errorResponse', () => {
  test('keeps a FleetgateError status, code and details', () => {
    const r = errorResponse(new FleetgateError('ERR_FG_NOT_FOUND', 'no', { status: 405, details: [1] }));
    assert.deepEqual(r, { status: 405, body: { error: { code: 'ERR_FG_NOT_FOUND', message: 'no', details: [1] } } });
  });
});

describe('readJsonBody', () => {
  test('415 for non-JSON, 413 by Content-Length before reading, parses +json types', async () => {
    const results: unknown[] = [];
    const { server, base } = await serve((req, res) => {
      readJsonBody(req, { maxBytes: 100 }).then(
        (body) => {
          results.push(body);
          sendJson(res, 200, { body });
        },
        (err: FleetgateError) => sendJson(res, err.status, err.toJSON(), { connection: 'close' }),
      );
    });
    try {
      const post = (body: string, type?: string) =>
        fetch(base, { method: 'POST', body, headers: type === undefined ? {} : { 'content-type': type } });
      assert.equal((await post('{}', 'text/plain')).status, 415);
      assert.equal((await post('{}')).status, 415);
      assert.equal((await post('{"a":1}', 'application/merge-patch+json')).status, 200);
      assert.equal((await post('{"a":1}', 'Application/JSON; charset=utf-8')).status, 200);
      assert.equal((await post(`"${'x'.repeat(200)}"`, 'application/json')).status, 413);
      assert.equal((await post('{"a":', 'application/json')).status, 400);
      assert.deepEqual(results, [{ a: 1 }, { a: 1 }]);
    } finally {
      await stop(server);
    }
  });
});
