/**
 * Shared pieces of the registry-router.*.test.ts files: the furt registration body, a real Registry
 * on a MemoryBackend behind the registry() middleware on a loopback server, and small HTTP helpers.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import request from 'supertest';
import { compose } from '../../http/compose.js';
import { MemoryBackend } from '../backends/memory.js';
import { createRegistry } from '../create-registry.js';
import type { Registry } from '../registry.js';
import { type RegistryRouterOptions, registry } from './registry-router.js';

/** The registration body of the furt example: service `sagjan`, instance `sagjan-1`, one GET route. */
export const FURT_BODY = {
  service: 'sagjan',
  url: 'http://127.0.0.1:7812',
  health_endpoint: '/health',
  routes: [{ method: 'GET', path: '/api/comments/*', permission: 'comments:read' }],
  instance_id: 'sagjan-1',
  weight: 1,
  metadata: {},
};

/** A running fixture; `await using` closes the server, the middleware and the registry. */
export interface Fixture extends AsyncDisposable {
  registry: Registry;
  server: Server;
  base: string;
}

/** Listens on a free 127.0.0.1 port and returns the base URL. */
export async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** Closes `server`, dropping keep-alive connections first. */
export async function closeServer(server: Server): Promise<void> {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
}

/** A real Registry on a MemoryBackend behind `http.createServer(compose([registry(...)]))`. */
export async function fixture(options: Partial<RegistryRouterOptions> = {}): Promise<Fixture> {
  const reg = await createRegistry({ backend: new MemoryBackend(), ownsBackend: true });
  const mw = registry({ registry: reg, ...options });
  const server = createServer(compose([mw]));
  const base = await listen(server);
  return {
    registry: reg,
    server,
    base,
    async [Symbol.asyncDispose]() {
      await closeServer(server);
      await mw.close();
      await reg.close();
    },
  };
}

/** GETs `/internal/services` (expecting 200) and returns the parsed body. */
export async function listing(base: string, headers: Record<string, string> = {}): Promise<unknown> {
  const res = await request(base).get('/internal/services').set(headers).expect(200);
  return res.body;
}
