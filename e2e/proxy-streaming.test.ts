/**
 * Bodies stream through discoveryProxy in both directions without being buffered; server-sent
 * events arrive one by one; a body parsed by express.json() is forwarded intact.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, describe, it } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import express from 'express';
import { type DiscoveryProxy, discoveryProxy } from '../lib/proxy/discovery-proxy.js';
import type { Registry } from '../lib/registry/registry.js';
import {
  echoUpstream,
  json,
  listen,
  memoryRegistry,
  registerInstance,
  send,
  type TestServer,
} from '../lib/test-support/http-test-kit.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const MB = 1024 * 1024;
const TOTAL = 10 * MB;
const CHUNK = Buffer.alloc(64 * 1024, 0x61);

/** Live memory after a full collection: what is really held, not garbage awaiting GC. */
function liveBytes(): number {
  gc();
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}

/**
 * The median growth over samples taken every MB of the transfer. Socket writes in flight hold
 * a few MB for an instant now and then (seen without any proxy too); a proxy that buffers the
 * body holds more and more, so the median tells the two apart where one sample could not.
 */
function medianGrowth(samples: number[], baseline: number): number {
  const sorted = samples.map((s) => s - baseline).sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.POSITIVE_INFINITY;
}

/** Resolves the returned promise from outside. */
function signal(): { promise: Promise<void>; fire: () => void } {
  let fire!: () => void;
  const promise = new Promise<void>((resolve) => {
    fire = resolve;
  });
  return { promise, fire };
}

describe('proxy streaming', () => {
  let registry: Registry;
  let proxy: DiscoveryProxy;
  let gw: TestServer;
  let big: TestServer;
  let sse: TestServer;
  let echo: TestServer;
  let appGw: TestServer;
  /** Upload: fired when the upstream got its first body chunk. */
  let uploadFirstChunk = signal();
  let uploadReceived = 0;
  /** Download: the upstream waits for this before sending past the first chunk. */
  let downloadClientGotFirst = signal();
  /** SSE: the upstream waits for signals[i] before sending event i + 1. */
  let sseClientGot: ReturnType<typeof signal>[] = [];

  before(async () => {
    registry = await memoryRegistry();
    big = await listen((req, res) => {
      if (req.method === 'PUT') {
        uploadReceived = 0;
        req.on('data', (c: Buffer) => {
          if (uploadReceived === 0) uploadFirstChunk.fire();
          uploadReceived += c.length;
        });
        req.on('end', () => res.end(String(uploadReceived)));
        return;
      }
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': TOTAL });
      let sent = 0;
      const pump = () => {
        while (sent < TOTAL) {
          sent += CHUNK.length;
          if (!res.write(CHUNK)) {
            res.once('drain', pump);
            return;
          }
        }
        res.end();
      };
      res.write(CHUNK);
      sent = CHUNK.length;
      downloadClientGotFirst.promise.then(pump);
    });
    sse = await listen(async (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
      for (let i = 0; i < sseClientGot.length; i++) {
        res.write(`id: ${i + 1}\ndata: event ${i + 1}\n\n`);
        await sseClientGot[i]!.promise;
      }
      res.end();
    });
    echo = await echoUpstream('echo');
    await registerInstance(registry, 'big', big.url, [
      { method: 'PUT', path: '/big/upload' },
      { method: 'GET', path: '/big/download' },
    ]);
    await registerInstance(registry, 'sse', sse.url, [{ method: 'GET', path: '/events' }]);
    await registerInstance(registry, 'echo', echo.url, [{ method: 'POST', path: '/echo/**' }]);
    proxy = discoveryProxy({ registry });
    gw = await listen((req, res) => proxy(req, res));
    const app = express();
    app.use(express.json());
    app.use(express.urlencoded({ extended: true }));
    app.use(proxy);
    appGw = await listen(app);
  });

  after(async () => {
    await gw.close();
    await appGw.close();
    await proxy.close();
    for (const s of [big, sse, echo]) await s.close();
    await registry.close();
  });

  it('streams a 10 MB upload: the upstream has data before the client finished, memory stays flat', async () => {
    uploadFirstChunk = signal();
    const baseline = liveBytes();
    const samples: number[] = [];
    const status = await new Promise<{ code: number; body: string }>((resolve, reject) => {
      const req = http.request(`${gw.url}/big/upload`, { method: 'PUT', headers: { 'content-length': TOTAL } });
      req.on('response', (res) => {
        let body = '';
        res.on('data', (c: Buffer) => {
          body += c;
        });
        res.on('end', () => resolve({ code: res.statusCode ?? 0, body }));
      });
      req.on('error', reject);
      (async () => {
        req.write(CHUNK);
        // Nothing more is sent until the upstream saw the first chunk: a buffering proxy deadlocks here.
        await uploadFirstChunk.promise;
        let sent = CHUNK.length;
        while (sent < TOTAL) {
          if (sent % MB === 0) samples.push(liveBytes());
          sent += CHUNK.length;
          if (!req.write(CHUNK)) await new Promise((r) => req.once('drain', r));
        }
        req.end();
      })().catch(reject);
    });
    assert.deepEqual(status, { code: 200, body: String(TOTAL) });
    const growth = medianGrowth(samples, baseline);
    assert.ok(growth < 5 * MB, `memory grew by ${(growth / MB).toFixed(1)} MB (median during the upload)`);
  });

  it('streams a 10 MB download: the client has data before the upstream finished, memory stays flat', async () => {
    downloadClientGotFirst = signal();
    const baseline = liveBytes();
    const samples: number[] = [];
    const received = await new Promise<number>((resolve, reject) => {
      http
        .get(`${gw.url}/big/download`, (res) => {
          let n = 0;
          res.on('data', (c: Buffer) => {
            if (n === 0) downloadClientGotFirst.fire();
            const before = n;
            n += c.length;
            if (Math.floor(before / MB) !== Math.floor(n / MB) && n < TOTAL) samples.push(liveBytes());
          });
          res.on('end', () => resolve(n));
          res.on('error', reject);
        })
        .on('error', reject);
    });
    assert.equal(received, TOTAL);
    const growth = medianGrowth(samples, baseline);
    assert.ok(growth < 5 * MB, `memory grew by ${(growth / MB).toFixed(1)} MB (median during the download)`);
  });

  it('delivers server-sent events one by one', async () => {
    sseClientGot = [signal(), signal(), signal()];
    const events: string[] = [];
    await new Promise<void>((resolve, reject) => {
      http
        .get(`${gw.url}/events`, (res) => {
          assert.equal(res.headers['content-type'], 'text/event-stream');
          assert.equal(res.headers['x-gateway'], 'fleetgate');
          let buf = '';
          res.setEncoding('utf8');
          res.on('data', (c: string) => {
            buf += c;
            for (let end = buf.indexOf('\n\n'); end >= 0; end = buf.indexOf('\n\n')) {
              events.push(buf.slice(0, end));
              buf = buf.slice(end + 2);
              // The upstream sends event n + 1 only after this: a buffering proxy would hang.
              sseClientGot[events.length - 1]?.fire();
            }
          });
          res.on('end', () => resolve());
          res.on('error', reject);
        })
        .on('error', reject);
    });
    assert.deepEqual(events, ['id: 1\ndata: event 1', 'id: 2\ndata: event 2', 'id: 3\ndata: event 3']);
  });

  it('forwards a body already parsed by express.json() or urlencoded() intact', async () => {
    const payload = { name: 'zoë', list: [1, 2, { deep: true }], nothing: null };
    const res = await send(`${appGw.url}/echo/json`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(payload),
    });
    assert.equal(res.status, 200);
    const got = json<{ body: string; headers: Record<string, string> }>(res);
    assert.deepEqual(JSON.parse(got.body), payload);
    assert.equal(got.headers['content-length'], String(Buffer.byteLength(got.body)));
    assert.equal(got.headers['transfer-encoding'], undefined);

    const form = await send(`${appGw.url}/echo/form`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'a=1&list=x&list=y&nested%5Bk%5D=v',
    });
    const formBody = json<{ body: string }>(form).body;
    assert.equal(formBody, 'a=1&list=x&list=y&nested%5Bk%5D=v');

    const untouched = await send(`${appGw.url}/echo/raw`, {
      method: 'POST',
      headers: { 'content-type': 'text/csv' },
      body: 'a,b\n1,2',
    });
    assert.equal(json<{ body: string }>(untouched).body, 'a,b\n1,2');
  });
});
