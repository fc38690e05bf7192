/** The bin's access log: one pino JSON line per proxied request on stdout; ACCESS_LOG=off writes none. */
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { startGateway } from './support/gateway-process.js';
import { close, listen } from './support/otlp-receiver.js';

const accessLines = (stdout: string) =>
  stdout
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>)
    .filter((l) => l.type === 'access');

describe('access log through the bin', () => {
  const upstream = createServer((_req, res) => res.end('ok'));
  let upstreamUrl: string;
  before(async () => {
    upstreamUrl = await listen(upstream);
  });
  after(() => close(upstream));

  for (const [setting, expected] of [
    [undefined, 1],
    ['off', 0],
  ] as const) {
    it(`ACCESS_LOG=${setting ?? '(default)'}: ${expected} line(s) for one proxied request`, async () => {
      const gateway = await startGateway({
        LOG_LEVEL: 'info',
        ...(setting === undefined ? {} : { ACCESS_LOG: setting }),
      });
      try {
        const reg = await gateway.register({
          service: 'a',
          instance_id: 'a-1',
          url: upstreamUrl,
          routes: [{ method: 'GET', path: '/a/:id' }],
        });
        assert.equal(reg.status, 200);
        const res = await fetch(`${gateway.url}/a/1`, { headers: { 'x-request-id': 'rid-1' } });
        assert.equal(res.status, 200);
        await res.text();
        const deadline = Date.now() + 5000;
        while (accessLines(gateway.stdout()).length < expected && Date.now() < deadline) {
          await new Promise((r) => setTimeout(r, 20));
        }
        await gateway.stop(10_000);
        const lines = accessLines(gateway.stdout());
        assert.equal(lines.length, expected);
        if (expected === 1) {
          const line = lines[0] as Record<string, unknown>;
          assert.equal(line.route, '/a/:id');
          assert.equal(line.service, 'a');
          assert.equal(line.instance_id, 'a-1');
          assert.equal(line.status, 200);
          assert.equal(line.request_id, 'rid-1');
          assert.equal(typeof line.duration_ms, 'number');
        }
      } finally {
        await gateway.kill();
      }
    });
  }
});
