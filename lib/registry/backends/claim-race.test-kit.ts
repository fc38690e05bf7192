/**
 * Two gateways (two Registry instances on one store) racing to register colliding routes for two
 * different services: used against every store that claims routes (store-route-claims.test.ts,
 * redis-cluster.test.ts).
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { isFleetgateError } from '../../errors.js';
import type { RegistryBackend } from '../model.js';
import { Registry } from '../registry.js';

/**
 * Two gateways on one store race `rounds` times with `/race/…/*` against `/race/…/:id`: asserts
 * exactly one winner per round, the loser refused with 409 `ERR_FG_ROUTE_CONFLICT`.
 */
export async function race(make: () => RegistryBackend, rounds: number): Promise<void> {
  const one = new Registry({ backend: make(), ownsBackend: true });
  const two = new Registry({ backend: make(), ownsBackend: true });
  try {
    await Promise.all([one.ready(), two.ready()]);
    const run = randomUUID().slice(0, 6);
    for (let i = 0; i < rounds; i++) {
      const routes = (path: string) => [{ method: 'GET', path }];
      const results = await Promise.allSettled([
        one.register({ service: `a-${run}-${i}`, url: 'http://127.0.0.1:7001', routes: routes(`/race/${run}/${i}/*`) }),
        two.register({
          service: `b-${run}-${i}`,
          url: 'http://127.0.0.1:7002',
          routes: routes(`/race/${run}/${i}/:id`),
        }),
      ]);
      const won = results.filter((r) => r.status === 'fulfilled').length;
      assert.equal(won, 1, `round ${i}: ${won} winners`);
      const lost = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
      assert.ok(isFleetgateError(lost.reason, 'ERR_FG_ROUTE_CONFLICT'), `round ${i}: ${String(lost.reason)}`);
    }
  } finally {
    await one.close();
    await two.close();
  }
}
