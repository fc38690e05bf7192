/** The access log: one line per proxied request with its fields, sampling (5xx always), off, and bad options. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { discoveryProxy } from '../proxy/discovery-proxy.js';
import { echoUpstream, listen, memoryRegistry, registerInstance, send } from '../test-support/http-test-kit.js';
import { type AccessLogRecord, createAccessLog, traceIdOf } from './access-log.js';

const record = (status: number): AccessLogRecord => ({
  method: 'GET',
  route: '/a',
  service: 'a',
  instance_id: 'a-1',
  status,
  duration_ms: 1,
  upstream_ms: 1,
  retries: 0,
  request_id: 'r',
  trace_id: undefined,
});

describe('access log', () => {
  it('writes one line per proxied request with route pattern, service, instance, timings, request and trace id', async () => {
    const lines: Array<Record<string, unknown>> = [];
    const registry = await memoryRegistry();
    const up = await echoUpstream('a');
    const proxy = discoveryProxy({
      registry,
      accessLog: createAccessLog({ logger: { info: (obj) => lines.push(obj as Record<string, unknown>) } }),
    });
    const gw = await listen((req, res) => proxy(req, res));
    try {
      await registerInstance(registry, 'a', up.url, [{ method: 'GET', path: '/api/:id' }], { instanceId: 'a-1' });
      const trace = '4bf92f3577b34da6a3ce929d0e0e4736';
      const res = await send(`${gw.url}/api/7?q=1`, {
        headers: { 'x-request-id': 'req-7', traceparent: `00-${trace}-00f067aa0ba902b7-01` },
      });
      assert.equal(res.status, 200);
      assert.equal(lines.length, 1);
      const line = lines[0] as Record<string, unknown>;
      assert.deepEqual(
        { ...line, duration_ms: typeof line.duration_ms, upstream_ms: typeof line.upstream_ms },
        {
          type: 'access',
          method: 'GET',
          route: '/api/:id',
          service: 'a',
          instance_id: 'a-1',
          status: 200,
          duration_ms: 'number',
          upstream_ms: 'number',
          retries: 0,
          request_id: 'req-7',
          trace_id: trace,
        },
      );
      assert.ok((line.upstream_ms as number) <= (line.duration_ms as number));
      assert.equal((await send(`${gw.url}/nothing`)).status, 404);
    } finally {
      await proxy.close();
      await gw.close();
      await up.close();
      await registry.close();
    }
  });

  it('samples successes, always logs 5xx, and 0 turns it off', () => {
    const lines: unknown[] = [];
    const logger = { info: (o: object) => lines.push(o) };
    let n = 0;
    const tenth = createAccessLog({ logger, sampleRate: 0.1, random: () => (n++ % 10) / 10 });
    for (let i = 0; i < 100; i++) tenth(record(200));
    assert.equal(lines.length, 10);
    tenth(record(502));
    assert.equal(lines.length, 11, 'errors are never sampled away');
    const off = createAccessLog({ logger, sampleRate: 0 });
    off(record(200));
    assert.equal(lines.length, 11);
  });

  it('refuses a sample rate outside 0–1; reads trace ids only from well-formed traceparents', () => {
    for (const sampleRate of [-0.1, 1.5, Number.NaN]) {
      assert.throws(() => createAccessLog({ logger: { info: () => {} }, sampleRate }), {
        code: 'ERR_FG_INVALID_CONFIG',
      });
    }
    assert.equal(
      traceIdOf('00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01'),
      '0af7651916cd43dd8448eb211c80319c',
    );
    assert.equal(traceIdOf('garbage'), undefined);
    assert.equal(traceIdOf(['a', 'b']), undefined);
  });
});
