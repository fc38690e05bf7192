import assert from 'node:assert/strict';
import { createServer, IncomingMessage, type Server, ServerResponse } from 'node:http';
import { type AddressInfo, Socket } from 'node:net';
import { describe, test } from 'node:test';
import express from 'express';
import { json, send } from '../test-support/http-test-kit.js';
import { adoptExpressClasses, createExpressServer, type ExpressLikeApp, isBornPrototype } from './express-server.js';

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

async function stop(server: Server): Promise<void> {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
}

describe('createExpressServer', () => {
  test("requests and responses are born with the app's prototypes, and Express works as before", async () => {
    const app = express();
    app.use(express.json());
    app.get('/hello', (req, res) => {
      res
        .status(201)
        .set('x-kind', 'get')
        .json({ q: req.query.q, ip: req.ip, ua: req.get('user-agent') });
    });
    app.post('/echo', (req, res) => {
      res.json({ body: req.body as unknown });
    });
    app.get('/fail', () => {
      throw new Error('boom');
    });
    app.use((err: Error, _req: express.Request, res: express.Response, _next: express.NextFunction) => {
      res.status(500).json({ handled: err.message });
    });
    const server = createExpressServer(app);
    const born: boolean[] = [];
    // Runs before Express touches the objects: what the server built, not what Express re-parented.
    server.prependListener('request', (req: IncomingMessage, res: ServerResponse) => {
      born.push(Object.getPrototypeOf(req) === app.request && Object.getPrototypeOf(res) === app.response);
    });
    const base = await listen(server);
    try {
      const hello = await send(`${base}/hello?q=42`, { headers: { 'user-agent': 'fg-test' } });
      assert.equal(hello.status, 201);
      assert.equal(hello.headers['x-kind'], 'get');
      assert.equal(hello.headers['x-powered-by'], 'Express');
      assert.deepEqual(json(hello), { q: '42', ip: '127.0.0.1', ua: 'fg-test' });

      const echo = await send(`${base}/echo`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{"a":[1,2]}',
      });
      assert.deepEqual(json(echo), { body: { a: [1, 2] } });

      const fail = await send(`${base}/fail`);
      assert.equal(fail.status, 500);
      assert.deepEqual(json(fail), { handled: 'boom' });

      const missing = await send(`${base}/nothing`);
      assert.equal(missing.status, 404);
      assert.deepEqual(born, [true, true, true, true]);
    } finally {
      await stop(server);
    }
  });

  test('many requests on one keep-alive connection', async () => {
    const app = express();
    app.get('/n/:n', (req, res) => {
      res.json({ n: Number(req.params.n) });
    });
    const server = createExpressServer(app);
    const base = await listen(server);
    try {
      const seen: number[] = [];
      for (let i = 0; i < 20; i++) seen.push(((await (await fetch(`${base}/n/${i}`)).json()) as { n: number }).n);
      assert.deepEqual(
        seen,
        Array.from({ length: 20 }, (_, i) => i),
      );
    } finally {
      await stop(server);
    }
  });

  test('a mounted sub-app still gets its own request prototype', async () => {
    const app = express();
    const sub = express();
    sub.get('/where', (req, res) => {
      res.json({ sub: Object.getPrototypeOf(req) === sub.request, app: req.app === sub });
    });
    app.use('/sub', sub);
    app.get('/where', (req, res) => {
      res.json({ main: Object.getPrototypeOf(req) === app.request });
    });
    const server = createExpressServer(app);
    const base = await listen(server);
    try {
      assert.deepEqual(json(await send(`${base}/sub/where`)), { sub: true, app: true });
      assert.deepEqual(json(await send(`${base}/where`)), { main: true });
    } finally {
      await stop(server);
    }
  });

  test("passes node:http options through (a header larger than maxHeaderSize is Node's 431)", async () => {
    const app = express();
    app.get('/', (_req, res) => {
      res.send('ok');
    });
    const server = createExpressServer(app, { maxHeaderSize: 1024 });
    const base = await listen(server);
    try {
      assert.equal((await send(`${base}/`)).status, 200);
      assert.equal((await send(`${base}/`, { headers: { 'x-big': 'x'.repeat(4096) } })).status, 431);
    } finally {
      await stop(server);
    }
  });

  test("refuses an app whose prototypes do not inherit from Node's classes", () => {
    const fake = Object.assign(() => {}, { request: {}, response: {} }) as unknown as ExpressLikeApp;
    assert.throws(() => createExpressServer(fake), /does not inherit from IncomingMessage\.prototype/);
  });
});

describe('adoptExpressClasses', () => {
  /** An app whose first request adopts (or tries to) and that reports how each request was born. */
  function probedApp(): { app: express.Express; born: boolean[]; adopted: boolean[] } {
    const app = express();
    const born: boolean[] = [];
    const adopted: boolean[] = [];
    app.use((req, res) => {
      adopted.push(adoptExpressClasses((req.socket as { server?: unknown }).server, req, res));
      res.json({ ok: true });
    });
    return { app, born, adopted };
  }

  function recordBirth(server: Server, app: express.Express, born: boolean[]): void {
    server.prependListener('request', (req: IncomingMessage, res: ServerResponse) => {
      born.push(Object.getPrototypeOf(req) === app.request && Object.getPrototypeOf(res) === app.response);
    });
  }

  test('http.createServer(app): from the next request on, every connection builds objects with the app prototypes', async () => {
    const { app, born, adopted } = probedApp();
    const server = createServer(app);
    const base = await listen(server);
    try {
      assert.equal((await send(`${base}/a`)).status, 200);
      // Checked after adoption: a prepended listener before it would make two listeners (not adopted).
      recordBirth(server, app, born);
      for (let i = 0; i < 3; i++) assert.deepEqual(json(await send(`${base}/b${i}`)), { ok: true });
      assert.deepEqual(adopted, [true, false, false, false]);
      assert.deepEqual(born, [true, true, true]);
      assert.ok(isBornPrototype(app.request) && isBornPrototype(app.response));
    } finally {
      await stop(server);
    }
  });

  test('leaves alone a server with a second request listener, classes of its own, or a sub-app request', async () => {
    const cases: [string, () => { server: Server; app: express.Express; born: boolean[]; adopted: boolean[] }][] = [
      [
        'second listener',
        () => {
          const p = probedApp();
          const server = createServer(p.app);
          server.on('request', () => {});
          return { server, ...p };
        },
      ],
      [
        'own classes',
        () => {
          const p = probedApp();
          class MyRequest extends IncomingMessage {}
          const server = createServer({ IncomingMessage: MyRequest }, p.app);
          return { server, ...p };
        },
      ],
      [
        'sub-app',
        () => {
          const p = probedApp();
          const top = express();
          top.use('/sub', p.app);
          return { server: createServer(top), app: top, born: p.born, adopted: p.adopted };
        },
      ],
    ];
    for (const [name, make] of cases) {
      const { server, app, born, adopted } = make();
      const base = await listen(server);
      try {
        assert.equal((await send(`${base}/sub/a`)).status, 200, name);
        server.prependListener('request', (req: IncomingMessage) => {
          born.push(Object.getPrototypeOf(req) === app.request);
        });
        assert.equal((await send(`${base}/sub/b`)).status, 200, name);
        assert.deepEqual(adopted, [false, false], name);
        assert.deepEqual(born, [false], name);
      } finally {
        await stop(server);
      }
    }
  });

  test('does nothing for objects of a bare node:http server, or without a server', () => {
    const app = express();
    const server = createServer(app);
    const req = new IncomingMessage(new Socket());
    const res = new ServerResponse(req);
    assert.equal(adoptExpressClasses(server, req, res), false);
    Object.setPrototypeOf(req, app.request);
    Object.setPrototypeOf(res, app.response);
    assert.equal(adoptExpressClasses(undefined, req, res), false);
    assert.equal(adoptExpressClasses({ listeners: () => [app] }, req, res), false);
    assert.equal(adoptExpressClasses(server, req, res), true);
    // Done once: the server now holds classes of its own, which are never replaced.
    assert.equal(adoptExpressClasses(server, req, res), false);
  });
});
