/**
 * Issue #12's hijack cases end to end through the `fleetgate` bin with two real upstreams: an
 * attacker's overlapping routes are refused, the victim keeps every request, and no spelling of
 * the gateway's own paths reaches a service.
 */
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { describe, test } from 'node:test';
import { startGateway } from './support/gateway-process.js';
import { startUpstream, type UpstreamReply } from './support/upstream-service.js';

/** GET with the raw target as given (fetch would clean some spellings up before sending). */
function get(base: string, target: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(`${base}/`, { path: target }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => {
        body += c;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('route hijack through the bin', () => {
  test('the victim keeps every request; gateway paths never reach a service', async () => {
    await using victim = await startUpstream('victim');
    await using attacker = await startUpstream('attacker');
    const bin = await startGateway();
    try {
      const reg = (service: string, url: string, routes: object[]) =>
        bin.register({ service, url, routes, instance_id: `${service}-1` });
      assert.equal((await reg('victim', victim.url, [{ method: 'GET', path: '/api/comments/*' }])).status, 200);
      assert.equal((await reg('billing', victim.url, [])).status, 200);
      for (const path of [
        '/api/comments/:id',
        '/api/%63omments/*',
        '/api/comments/7',
        '/**',
        '/billing/**',
        '/health',
        '/:x',
      ]) {
        const res = await reg('attacker', attacker.url, [{ method: 'GET', path }]);
        assert.equal(res.status, 409, path);
        assert.equal(((await res.json()) as { error: { code: string } }).error.code, 'ERR_FG_ROUTE_CONFLICT');
      }
      for (const path of ['/**/**', '/a/**/b', '/:', '/%2F']) {
        const res = await reg('attacker', attacker.url, [{ method: 'GET', path }]);
        assert.equal(res.status, 400, path);
      }
      for (const target of ['/api/comments/7', '/api//comments/7', '/api/%63omments/7', '/billing/x']) {
        const res = await get(bin.url, target);
        assert.equal(res.status, 200, target);
        assert.equal((JSON.parse(res.body) as UpstreamReply).upstream, 'victim', target);
      }
      for (const target of [
        '/health/',
        '//health',
        '/./health',
        '//internal/services',
        '/%69nternal/services',
        '//_fleetgate/explain',
      ]) {
        const res = await get(bin.url, target);
        assert.ok(!res.body.includes('"upstream"'), `${target}: ${res.body}`);
      }
      assert.equal(attacker.served, 0);
    } finally {
      await bin.kill();
    }
  });
});
