/**
 * Instance ownership through the real `fleetgate` bin: a second caller (another loopback source
 * address) can neither heartbeat, deregister nor re-register the victim's instance, so the victim
 * keeps every request; the victim's own token works.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Agent, request } from 'undici';
import { startGateway } from './support/gateway-process.js';
import { startUpstream, type Upstream } from './support/upstream-service.js';

/** The parts of an answer the test reads. */
interface Reply {
  instance_token?: string;
  upstream?: string;
  error?: { code: string };
}

/** An HTTP caller bound to one loopback source address. */
function caller(localAddress: string) {
  const agent = new Agent({ localAddress });
  return {
    agent,
    async call(method: 'POST' | 'PUT' | 'DELETE' | 'GET', url: string, body?: unknown, token?: string) {
      const headers: Record<string, string> = {};
      if (body !== undefined) headers['content-type'] = 'application/json';
      if (token !== undefined) headers['x-instance-token'] = token;
      const res = await request(url, {
        method,
        headers,
        body: body === undefined ? null : JSON.stringify(body),
        dispatcher: agent,
        signal: AbortSignal.timeout(5000),
      });
      const text = await res.body.text();
      return { status: res.statusCode, body: text === '' ? undefined : (JSON.parse(text) as Reply) };
    },
  };
}

describe('registry ownership through the fleetgate bin', () => {
  let victim: Upstream;
  let attacker: Upstream;
  before(async () => {
    victim = await startUpstream('victim');
    attacker = await startUpstream('attacker');
  });
  after(async () => {
    await victim?.close();
    await attacker?.close();
  });

  it('a second caller cannot heartbeat, delete or re-register the victim; the victim keeps every request', async () => {
    await using gateway = await startGateway({ REGISTRY_TYPE: 'INMEMORY' });
    const base = gateway.url;
    const owner = caller('127.0.0.1');
    const other = caller('127.0.0.2');
    try {
      const body = {
        service: 'comments',
        instance_id: 'comments-1',
        url: victim.url,
        routes: [{ method: 'GET', path: '/api/comments/*' }],
      };
      const reg = await owner.call('POST', `${base}/internal/register-service`, body);
      assert.equal(reg.status, 200);
      const token = reg.body?.instance_token as string;
      assert.equal(typeof token, 'string');

      const instance = `${base}/internal/services/comments/instances/comments-1`;
      for (const guess of [undefined, 'not-the-token']) {
        const hb = await other.call('PUT', `${instance}/heartbeat`, undefined, guess);
        assert.deepEqual([hb.status, hb.body?.error?.code], [403, 'ERR_FG_NOT_OWNER']);
        const del = await other.call('DELETE', instance, undefined, guess);
        assert.deepEqual([del.status, del.body?.error?.code], [403, 'ERR_FG_NOT_OWNER']);
        const hijack = await other.call('POST', `${base}/internal/register-service`, { ...body, url: attacker.url });
        assert.deepEqual(
          [hijack.status, hijack.body?.error?.code],
          [403, 'ERR_FG_NOT_OWNER'],
          JSON.stringify(hijack.body),
        );
      }
      for (let i = 0; i < 10; i++) {
        const res = await owner.call('GET', `${base}/api/comments/${i}`);
        assert.equal(res.status, 200);
        assert.equal(res.body?.upstream, 'victim');
      }
      assert.equal(attacker.served, 0, 'the attacker got no request');

      assert.equal((await other.call('PUT', `${instance}/heartbeat`, undefined, token)).status, 200);
      assert.equal((await owner.call('DELETE', instance, undefined, token)).status, 200);
    } finally {
      await owner.agent.close();
      await other.agent.close();
    }
  });
});
