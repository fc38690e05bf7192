import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { describe, it } from 'node:test';
import { listen, send } from '../test-support/http-test-kit.js';
import {
  buildClientHeaders,
  buildUpstreamHeaders,
  type RequestHeadInfo,
  setBodyHeaders,
  writeHeadArray,
} from './proxy-headers.js';
import { isTraceparent, newTraceparent } from './request-ids.js';

function fakeReq(rawHeaders: string[], remoteAddress = '10.0.0.9', encrypted = false): IncomingMessage {
  return { rawHeaders, socket: { remoteAddress, encrypted } } as unknown as IncomingMessage;
}

function toMap(flat: string[]): Map<string, string[]> {
  const m = new Map<string, string[]>();
  for (let i = 0; i < flat.length; i += 2) {
    const k = flat[i]!.toLowerCase();
    m.set(k, [...(m.get(k) ?? []), flat[i + 1]!]);
  }
  return m;
}

function info(): RequestHeadInfo {
  return { requestId: '', contentLength: -1, chunked: false, expect: false };
}

describe('buildUpstreamHeaders', () => {
  it('drops hop-by-hop headers and the ones Connection names', () => {
    const i = info();
    const out = toMap(
      buildUpstreamHeaders(
        fakeReq([
          'X-Secret',
          's',
          'Connection',
          'keep-alive, X-Secret',
          'Keep-Alive',
          'timeout=5',
          'Proxy-Connection',
          'keep-alive',
          'TE',
          'trailers',
          'Trailer',
          'x-t',
          'Upgrade',
          'h2c',
          'Proxy-Authorization',
          'Basic x',
          'Transfer-Encoding',
          'chunked',
          'Expect',
          '100-continue',
          'Accept',
          'text/plain',
          'Host',
          'gw.example',
        ]),
        { preserveHost: false },
        i,
      ),
    );
    for (const h of [
      'x-secret',
      'connection',
      'keep-alive',
      'proxy-connection',
      'te',
      'trailer',
      'upgrade',
      'proxy-authorization',
      'transfer-encoding',
      'expect',
      'host',
    ]) {
      assert.equal(out.has(h), false, h);
    }
    assert.deepEqual(out.get('accept'), ['text/plain']);
    assert.equal(i.chunked, true);
    assert.equal(i.expect, true);
  });

  it('adds X-Forwarded-* and keeps what a trusted hop set', () => {
    const out = toMap(buildUpstreamHeaders(fakeReq(['Host', 'gw.example:8080']), { preserveHost: false }, info()));
    assert.deepEqual(out.get('x-forwarded-for'), ['10.0.0.9']);
    assert.deepEqual(out.get('x-forwarded-proto'), ['http']);
    assert.deepEqual(out.get('x-forwarded-host'), ['gw.example:8080']);

    const chained = toMap(
      buildUpstreamHeaders(
        fakeReq(
          [
            'Host',
            'gw',
            'X-Forwarded-For',
            '1.1.1.1',
            'x-forwarded-for',
            '2.2.2.2',
            'X-Forwarded-Proto',
            'https',
            'X-Forwarded-Host',
            'public.example',
          ],
          '10.0.0.9',
          true,
        ),
        { preserveHost: true },
        info(),
      ),
    );
    assert.deepEqual(chained.get('x-forwarded-for'), ['1.1.1.1, 2.2.2.2, 10.0.0.9']);
    assert.deepEqual(chained.get('x-forwarded-proto'), ['https']);
    assert.deepEqual(chained.get('x-forwarded-host'), ['public.example']);
    assert.deepEqual(chained.get('host'), ['gw']);
  });

  it('keeps or generates X-Request-Id and traceparent', () => {
    const tp = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
    const i = info();
    const kept = toMap(
      buildUpstreamHeaders(fakeReq(['X-Request-Id', 'abc', 'traceparent', tp]), { preserveHost: false }, i),
    );
    assert.deepEqual(kept.get('x-request-id'), ['abc']);
    assert.deepEqual(kept.get('traceparent'), [tp]);
    assert.equal(i.requestId, 'abc');

    const j = info();
    const made = toMap(buildUpstreamHeaders(fakeReq(['traceparent', 'garbage']), { preserveHost: false }, j));
    assert.match(made.get('x-request-id')![0]!, /^[0-9a-f-]{36}$/);
    assert.equal(j.requestId, made.get('x-request-id')![0]);
    assert.equal(made.get('traceparent')!.length, 1);
    assert.match(made.get('traceparent')![0]!, /^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
  });

  it('records the content length', () => {
    const i = info();
    buildUpstreamHeaders(fakeReq(['Content-Length', '12']), { preserveHost: false }, i);
    assert.equal(i.contentLength, 12);
  });
});

describe('buildClientHeaders', () => {
  const b = (s: string) => Buffer.from(s, 'latin1');

  it('strips hop-by-hop, keeps repeats and bytes, stamps the gateway', () => {
    const sink = { flushHead: true };
    const out = buildClientHeaders(
      [
        b('Content-Type'),
        b('text/plain'),
        b('Content-Length'),
        b('2'),
        b('Connection'),
        b('keep-alive, X-Hop'),
        b('X-Hop'),
        b('1'),
        b('Keep-Alive'),
        b('timeout=5'),
        b('Set-Cookie'),
        b('a=1'),
        b('Set-Cookie'),
        b('b=2'),
        b('X-Name'),
        b('caf\u00e9'),
      ],
      'rid',
      1.234,
      sink,
    );
    const m = toMap(out);
    assert.equal(m.has('connection') || m.has('x-hop') || m.has('keep-alive'), false);
    assert.deepEqual(m.get('set-cookie'), ['a=1', 'b=2']);
    assert.deepEqual(m.get('x-name'), ['caf\u00e9']);
    assert.deepEqual(m.get('x-gateway'), ['fleetgate']);
    assert.deepEqual(m.get('server-timing'), ['gateway;dur=1.23']);
    assert.deepEqual(m.get('x-request-id'), ['rid']);
    assert.equal(sink.flushHead, false);
  });

  it('flushes the head of event streams and bodies of unknown length, keeps an upstream request id', () => {
    const sink = { flushHead: false };
    const m = toMap(
      buildClientHeaders([b('content-type'), b('text/event-stream'), b('x-request-id'), b('up')], 'rid', 0, sink),
    );
    assert.equal(sink.flushHead, true);
    assert.deepEqual(m.get('x-request-id'), ['up']);
  });
});

describe('setBodyHeaders', () => {
  it('replaces length, drops the encoding, optionally the type', () => {
    const out = toMap(
      setBodyHeaders(
        ['Content-Length', '99', 'Content-Encoding', 'gzip', 'Content-Type', 'text/plain; charset=latin1', 'X', '1'],
        5,
        'text/plain; charset=utf-8',
      ),
    );
    assert.deepEqual(out.get('content-length'), ['5']);
    assert.equal(out.has('content-encoding'), false);
    assert.deepEqual(out.get('content-type'), ['text/plain; charset=utf-8']);
    assert.deepEqual(out.get('x'), ['1']);
  });
});

describe('writeHeadArray', () => {
  it('keeps repeated names with and without headers a framework set first', async () => {
    const server = await listen((req, res) => {
      if (req.url === '/preset') {
        res.setHeader('X-Powered-By', 'framework');
        res.setHeader('X-Frame', 'keep');
      }
      writeHeadArray(res, 201, [
        'Set-Cookie',
        'a=1',
        'X-Powered-By',
        'upstream',
        'set-cookie',
        'b=2',
        'Set-Cookie',
        'c=3',
      ]);
      res.end();
    });
    try {
      for (const path of ['/plain', '/preset']) {
        const res = await send(server.url + path);
        assert.equal(res.status, 201);
        assert.deepEqual(res.headers['set-cookie'], ['a=1', 'b=2', 'c=3'], path);
        assert.equal(res.headers['x-powered-by'], 'upstream', path);
      }
      assert.equal((await send(`${server.url}/preset`)).headers['x-frame'], 'keep');
    } finally {
      await server.close();
    }
  });
});

describe('request ids', () => {
  it('mints valid, distinct traceparents', () => {
    const seen = new Set<string>();
    for (let n = 0; n < 2000; n++) {
      const tp = newTraceparent();
      assert.ok(isTraceparent(tp));
      seen.add(tp);
    }
    assert.equal(seen.size, 2000);
    assert.equal(isTraceparent('00-abc'), false);
  });
});
