/**
 * registry(): frozen defaults and option validation, the registry made from the environment, and
 * mounting in an Express 5 app.
 */
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { describe, test } from 'node:test';
import express from 'express';
import request from 'supertest';
import { compose } from '../../http/compose.js';
import { MemoryBackend } from '../backends/memory.js';
import { createRegistry } from '../create-registry.js';
import { REGISTRY_ROUTER_DEFAULTS, registry } from './registry-router.js';
import { closeServer, FURT_BODY, listen, listing } from './registry-router.test-kit.js';

describe('registry() HTTP API', () => {
  test('defaults are frozen', () => {
    assert.ok(Object.isFrozen(REGISTRY_ROUTER_DEFAULTS));
    assert.ok(Object.isFrozen(REGISTRY_ROUTER_DEFAULTS.allowFrom));
    assert.throws(() => registry({ prefix: 'internal/' }), { code: 'ERR_FG_INVALID_CONFIG' });
    assert.throws(() => registry({ allowFrom: ['10.0.0.0/33'] }), { code: 'ERR_FG_INVALID_CONFIG' });
  });

  test('without a registry option, creates one from the environment on first use and closes it', async () => {
    const mw = registry();
    const server = createServer(compose([mw]));
    const base = await listen(server);
    try {
      await request(base).post('/internal/register-service').send(FURT_BODY).expect(200);
      const list = (await listing(base)) as { services: Record<string, unknown> };
      assert.deepEqual(Object.keys(list.services), ['sagjan']);
    } finally {
      await closeServer(server);
      await mw.close();
    }
  });

  test('works mounted in an Express 5 app, also after express.json() parsed the body', async () => {
    const reg = await createRegistry({ backend: new MemoryBackend(), ownsBackend: true });
    const mw = registry({ registry: reg });
    const app = express();
    app.use(express.json());
    app.use(mw);
    // Mounted under a path, the prefix is the mount path's job.
    const mounted = registry({ registry: reg, prefix: '' });
    app.use('/reg', mounted);
    app.get('/other', (_req, res) => {
      res.json({ other: true });
    });
    const server = createServer(app);
    const base = await listen(server);
    try {
      const res = await request(base).post('/internal/register-service').send(FURT_BODY).expect(200);
      assert.equal(res.body.status, 'registered');
      const token = { 'x-instance-token': res.body.instance_token as string };
      assert.equal(reg.get('sagjan', 'sagjan-1')?.url, 'http://127.0.0.1:7812');
      const bad = await request(base)
        .post('/internal/register-service')
        .send({ ...FURT_BODY, extra: true })
        .expect(400);
      assert.equal(bad.body.error.code, 'ERR_FG_INVALID_BODY');
      await request(base).get('/other').expect(200, { other: true });
      const list = await request(base).get('/internal/services').expect(200);
      assert.equal(list.body.services.sagjan.instances.length, 1);
      await request(base).put('/reg/services/sagjan/instances/sagjan-1/heartbeat').set(token).expect(200);
      await request(base).get('/reg/services').expect(200);
    } finally {
      await closeServer(server);
      await mounted.close();
      await mw.close();
      await reg.close();
    }
  });
});
