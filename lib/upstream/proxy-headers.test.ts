import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { describe, it } from 'node:test';
import { isSafeRequestId, isTraceparent, newTraceparent } from '../core/request-ids.js';
import {
  buildClientHeaders,
  buildUpstreamHeaders,
  GATEWAY_VERSION,
  type RequestHeadInfo,
  type UpstreamHeaderSettings,
  upstreamHeaderOptions,
} from './proxy-headers.js';

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
  return { requestId: '', contentLength: -1, chunked: false, expect: false, refusal: undefined };
}

function opts(settings: UpstreamHeaderSettings = {}) {
  return upstreamHeaderOptions({ gatewayId: 'gw-test', ...settings });
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
        opts(),
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

  it('adds X-Forwarded-* and extends what a trusted proxy set', () => {
    const out = toMap(buildUpstreamHeaders(fakeReq(['Host', 'gw.example:8080']), opts(), info()));
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
        opts({ preserveHost: true, trustProxy: ['10.0.0.0/8'] }),
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
    const kept = toMap(buildUpstreamHeaders(fakeReq(['X-Request-Id', 'abc', 'traceparent', tp]), opts(), i));
    assert.deepEqual(kept.get('x-request-id'), ['abc']);
    assert.deepEqual(kept.get('traceparent'), [tp]);
    assert.equal(i.requestId, 'abc');

    const j = info();
    const made = toMap(buildUpstreamHeaders(fakeReq(['traceparent', 'garbage']), opts(), j));
    assert.match(made.get('x-request-id')![0]!, /^[0-9a-f-]{36}$/);
    assert.equal(j.requestId, made.get('x-request-id')![0]);
    assert.equal(made.get('traceparent')!.length, 1);
    assert.match(made.get('traceparent')![0]!, /^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
  });

  it('an untrusted peer’s X-Forwarded-*, Forwarded and X-Real-IP are replaced by what the gateway saw', () => {
    const sent = [
      'Host',
      'gw',
      'X-Forwarded-For',
      '6.6.6.6',
      'X-Forwarded-Proto',
      'https',
      'X-Forwarded-Host',
      'evil.example',
      'Forwarded',
      'for=6.6.6.6',
      'X-Real-IP',
      '6.6.6.6',
    ];
    const out = toMap(buildUpstreamHeaders(fakeReq(sent, '192.0.2.1'), opts({ trustProxy: ['10.0.0.0/8'] }), info()));
    assert.deepEqual(out.get('x-forwarded-for'), ['192.0.2.1']);
    assert.deepEqual(out.get('x-forwarded-proto'), ['http']);
    assert.deepEqual(out.get('x-forwarded-host'), ['gw']);
    assert.equal(out.has('forwarded') || out.has('x-real-ip'), false);
    const trusted = toMap(
      buildUpstreamHeaders(fakeReq(sent, '::ffff:10.1.1.1'), opts({ trustProxy: ['10.0.0.0/8'] }), info()),
    );
    assert.deepEqual(trusted.get('x-forwarded-for'), ['6.6.6.6, 10.1.1.1']);
    assert.deepEqual(trusted.get('forwarded'), ['for=6.6.6.6']);
    assert.deepEqual(trusted.get('x-real-ip'), ['6.6.6.6']);
  });

  it('a client’s Connection cannot strip the gateway’s own headers', () => {
    const i = info();
    const out = toMap(
      buildUpstreamHeaders(
        fakeReq([
          'Host',
          'gw',
          'Connection',
          'X-Forwarded-For, X-Request-Id, traceparent, X-Forwarded-Proto',
          'connection',
          'X-Forwarded-Host, Via, Content-Length, X-Custom',
          'X-Request-Id',
          'mine',
          'X-Custom',
          'gone',
          'Content-Length',
          '3',
          'Via',
          '1.1 other',
        ]),
        opts({ trustProxy: ['10.0.0.0/8'] }),
        i,
      ),
    );
    assert.deepEqual(out.get('x-forwarded-for'), ['10.0.0.9']);
    assert.deepEqual(out.get('x-forwarded-proto'), ['http']);
    assert.deepEqual(out.get('x-forwarded-host'), ['gw']);
    assert.deepEqual(out.get('via'), ['1.1 gw-test'], 'the client’s own entries go, the gateway’s stays');
    assert.match(out.get('x-request-id')?.[0] ?? '', /^[0-9a-f-]{36}$/);
    assert.notEqual(i.requestId, 'mine');
    assert.equal(out.get('traceparent')?.length, 1);
    assert.equal(out.has('x-custom'), false, 'nominated client headers are dropped');
    assert.deepEqual(out.get('content-length'), ['3'], 'framing is never nominated away');
  });

  it('keeps a short, safe X-Request-Id and replaces any other', () => {
    for (const [sent, kept] of [
      ['abc-123_x.y:z', true],
      ['dGVzdA+/=', true],
      ['a'.repeat(128), true],
      ['a'.repeat(129), false],
      ['a b', false],
      ['id\u00e9', false],
      ['<script>', false],
    ] as const) {
      const i = info();
      const out = toMap(buildUpstreamHeaders(fakeReq(['X-Request-Id', sent]), opts(), i));
      assert.equal(i.requestId === sent, kept, sent);
      assert.deepEqual(out.get('x-request-id'), [i.requestId]);
      assert.equal(isSafeRequestId(i.requestId), true);
    }
  });

  it('adds Via with the gateway id and refuses its own id or too many hops', () => {
    const refusal = (raw: string[], o = opts()) => {
      const i = info();
      buildUpstreamHeaders(fakeReq(raw), o, i);
      return i.refusal;
    };
    const i = info();
    const out = toMap(buildUpstreamHeaders(fakeReq(['Via', '1.0 a', 'Via', 'HTTP/2 b']), opts(), i));
    assert.deepEqual(out.get('via'), ['1.0 a, HTTP/2 b, 1.1 gw-test']);
    assert.equal(i.refusal, undefined);
    const loop = refusal(['Via', '1.1 x, 1.1 gw-test (fleetgate)']);
    assert.equal(loop?.code, 'ERR_FG_LOOP_DETECTED');
    assert.equal(loop?.status, 508);
    assert.equal(refusal(['Via', '1.1 a, 1.1 b'], opts({ maxHops: 3 })), undefined);
    assert.equal(refusal(['Via', '1.1 a, 1.1 b, 1.1 c'], opts({ maxHops: 3 }))?.code, 'ERR_FG_LOOP_DETECTED');
    // Nominating Via for removal does not hide a loop.
    assert.equal(refusal(['Connection', 'via', 'Via', '1.1 gw-test'])?.code, 'ERR_FG_LOOP_DETECTED');
  });

  it('reports two Host headers', () => {
    const i = info();
    buildUpstreamHeaders(fakeReq(['Host', 'a', 'host', 'b']), opts(), i);
    const refusal = i.refusal as { code: string; status: number } | undefined;
    assert.equal(refusal?.code, 'ERR_FG_BAD_HEADER');
    assert.equal(refusal?.status, 400);
  });

  it('records the content length', () => {
    const i = info();
    buildUpstreamHeaders(fakeReq(['Content-Length', '12']), opts(), i);
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
        b('X-Gateway-Version'),
        b('9.9.9-upstream'),
      ],
      'rid',
      1.234,
      sink,
      '1.1 gw-test',
    );
    const m = toMap(out);
    assert.equal(m.has('connection') || m.has('x-hop') || m.has('keep-alive'), false);
    assert.deepEqual(m.get('set-cookie'), ['a=1', 'b=2']);
    assert.deepEqual(m.get('x-name'), ['caf\u00e9']);
    assert.deepEqual(m.get('x-gateway'), ['fleetgate']);
    assert.deepEqual(m.get('x-gateway-version'), [GATEWAY_VERSION], 'the gateway’s version, never the upstream’s');
    assert.match(GATEWAY_VERSION, /^\d+\.\d+\.\d+/);
    assert.deepEqual(m.get('server-timing'), ['gateway;dur=1.23']);
    assert.deepEqual(m.get('x-request-id'), ['rid']);
    assert.equal(sink.flushHead, false);
  });

  it('an upstream’s Connection cannot strip X-Gateway, Server-Timing, Via or the request id', () => {
    const m = toMap(
      buildClientHeaders(
        [
          b('Connection'),
          b('x-gateway, server-timing, via, x-request-id, x-up'),
          b('X-Request-Id'),
          b('up'),
          b('X-Up'),
          b('1'),
          b('Via'),
          b('1.1 inner'),
        ],
        'rid',
        0,
        { flushHead: false },
        '1.1 gw-test',
      ),
    );
    assert.deepEqual(m.get('x-gateway'), ['fleetgate']);
    assert.equal(m.get('server-timing')?.length, 1);
    assert.deepEqual(m.get('via'), ['1.1 gw-test']);
    assert.deepEqual(m.get('x-request-id'), ['rid']);
    assert.equal(m.has('x-up'), false);
    const kept = toMap(buildClientHeaders([b('Via'), b('1.1 inner')], 'rid', 0, { flushHead: false }, '1.1 gw-test'));
    assert.deepEqual(kept.get('via'), ['1.1 inner, 1.1 gw-test']);
  });

  it('flushes the head of event streams and bodies of unknown length, keeps an upstream request id', () => {
    const sink = { flushHead: false };
    const m = toMap(
      buildClientHeaders(
        [b('content-type'), b('text/event-stream'), b('x-request-id'), b('up')],
        'rid',
        0,
        sink,
        '1.1 gw-test',
      ),
    );
    assert.equal(sink.flushHead, true);
    assert.deepEqual(m.get('x-request-id'), ['up']);
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
