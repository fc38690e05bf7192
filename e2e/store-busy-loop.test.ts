/**
 * A busy gateway is not a down store: on real Redis and etcd, the gateway's own event loop is
 * stalled (a synchronous busy-wait, as a long task, a GC pause or a descheduled process on a
 * loaded machine would) for longer than the liveness probe's deadline while a probe is in
 * flight. The store answers within a millisecond, so the answer waits in the socket; the
 * registry must read it before deciding the deadline, and never report the store `down`.
 * A full re-list stalled the same way completes under its own `listTimeoutMs`.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { EtcdBackend } from '../lib/registry/backends/etcd.js';
import { RedisBackend } from '../lib/registry/backends/redis.js';
import type { RegistryBackend } from '../lib/registry/model.js';
import { Registry } from '../lib/registry/registry.js';
import type { StoreCondition } from '../lib/registry/store-monitor.js';
import {
  etcdSkipReason,
  redisSkipReason,
  startEtcd,
  startRedis,
  type TestServer,
  waitUntil,
} from '../sandbox/servers/index.js';

/** How long the loop is held: three probe deadlines (500 ms), the scenario itself, not a wait. */
const STALL_MS = 1500;

/** Holds the event loop for `ms`, as a long synchronous task does. */
function busyWait(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end) {
    // spin
  }
}

/**
 * The backend with a probe that, when asked, stalls the loop right after the probe went out
 * (the PING or range read is written before the stall begins).
 */
function stallingProbe(backend: RegistryBackend): { backend: RegistryBackend; stallNextProbe: () => Promise<void> } {
  let stall: (() => void) | undefined;
  const probe = backend.probe!.bind(backend);
  const wrapped = new Proxy(backend, {
    get(target, key) {
      if (key === 'probe') {
        return () => {
          const sent = probe();
          const done = stall;
          if (done !== undefined) {
            stall = undefined;
            setImmediate(() => {
              busyWait(STALL_MS);
              done();
            });
          }
          return sent;
        };
      }
      const value = Reflect.get(target, key, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
  return {
    backend: wrapped,
    stallNextProbe: () =>
      new Promise<void>((resolve) => {
        stall = resolve;
      }),
  };
}

interface Kind {
  name: string;
  skip: string | undefined;
  start: () => Promise<TestServer & { url: string; endpoints?: string[] }>;
  /** A backend on `server` under its own key space `space`. */
  backend: (server: { url: string; endpoints?: string[] }, space: string) => RegistryBackend;
}

const kinds: Kind[] = [
  {
    name: 'REDIS',
    skip: await redisSkipReason(),
    start: startRedis,
    backend: (s, space) => RedisBackend.fromUrls([s.url], { keyPrefix: space }),
  },
  {
    name: 'ETCD',
    skip: await etcdSkipReason(),
    start: startEtcd,
    backend: (s, space) => EtcdBackend.fromEndpoints(s.endpoints!, { root: `/${space}/` }),
  },
];

/** A key space of its own per test on the shared server. */
function space(): string {
  return `busy-${randomUUID().slice(0, 8)}`;
}

const servers: TestServer[] = [];
after(async () => {
  for (const s of servers) await s.stop();
});

for (const kind of kinds) {
  describe(`a ${kind.name} gateway whose event loop stalls`, { skip: kind.skip }, () => {
    let server: TestServer & { url: string; endpoints?: string[] };
    before(async () => {
      server = await kind.start();
      servers.push(server);
    });

    test(`past the probe deadline while a probe is in flight: the store stays up`, async () => {
      const { backend, stallNextProbe } = stallingProbe(kind.backend(server, space()));
      await using registry = new Registry({ backend, ownsBackend: true });
      await registry.ready();
      const states: StoreCondition[] = [];
      registry.on('store-state', (s) => states.push(s.state));
      const before = registry.storeLiveness().lastRoundTripMs;
      await waitUntil(() => registry.storeLiveness().lastRoundTripMs !== undefined, {
        timeoutMs: 5000,
        description: 'a first probe answered',
      });
      for (let round = 0; round < 3; round++) {
        const t0 = performance.now();
        await stallNextProbe();
        assert.ok(performance.now() - t0 >= STALL_MS, 'the loop was held past the deadline');
        // The stalled probe's outcome is reported within a few loop turns; then a fresh probe answers.
        const answeredAt = Date.now();
        await waitUntil(() => (registry.storeLiveness().lastSuccessAgeMs ?? Infinity) <= Date.now() - answeredAt, {
          timeoutMs: 5000,
          description: 'a probe answered after the stall',
        });
      }
      assert.deepEqual(states, [], `never down, no transition (round trip before: ${before} ms)`);
      assert.equal(registry.storeState().state, 'up');
      assert.equal(registry.health().connected, true);
    });

    test('during a full re-list: the listing completes under listTimeoutMs', async () => {
      const ks = space();
      const backend = kind.backend(server, ks);
      {
        await using writer = new Registry({ backend: kind.backend(server, ks), ownsBackend: true });
        await writer.ready();
        await Promise.all(
          Array.from({ length: 200 }, (_, i) =>
            writer.register({ service: `svc-${i % 20}`, instanceId: `i${i}`, url: `http://127.0.0.1:${1000 + i}` }),
          ),
        );
      }
      // The constructor sends the listing; the loop is held before its answer can be read.
      await using registry = new Registry({ backend, ownsBackend: true });
      busyWait(STALL_MS);
      await registry.ready();
      assert.equal(registry.instances().length, 200);
      assert.equal(registry.storeState().state, 'up');
    });
  });
}
