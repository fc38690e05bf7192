import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import { makeInstance } from '../../fixtures/routing-instances.js';
import type { ServiceInstance } from '../registry/model.js';
import type { RegistryApi } from '../registry/registry-api.js';
import { healthAggregator } from './health-aggregator.js';

/** Only health() and instances() are read by the aggregator. */
function fleet(list: ServiceInstance[]): RegistryApi {
  return {
    instances: (service?: string) => list.filter((i) => service === undefined || i.service === service),
    health: () => ({ type: 'INMEMORY', connected: true, selfPreservation: { active: false, preserved: 0 } }),
  } as unknown as RegistryApi;
}

// biome-ignore lint/suspicious/noExplicitAny: the test walks JSON of two report shapes
type Json = Record<string, any>;

async function body(handler: ReturnType<typeof healthAggregator>, path: string): Promise<Json> {
  const server = createServer((req, res) => handler(req, res, () => res.writeHead(404).end()));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const res = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}${path}`);
    assert.equal(res.status, 200);
    return (await res.json()) as Json;
  } finally {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
}

const instances = [
  makeInstance('alpha', 'a1'),
  makeInstance('alpha', 'a2', { status: 'DOWN' }),
  makeInstance('beta', 'b1', { status: 'DOWN' }),
  makeInstance('gamma', 'g1'),
];

describe('/health above summaryAbove', () => {
  it('answers counts per service, not instances, by default', async () => {
    await using h = healthAggregator({ registry: fleet(instances), summaryAbove: 3 });
    const b = await body(h, '/health');
    assert.equal(b.status, 'degraded');
    assert.deepEqual(b.summary.services, 3);
    assert.deepEqual([b.summary.services_down, b.summary.instances, b.summary.instances_up], [1, 4, 2]);
    assert.deepEqual(b.services, {
      alpha: { status: 'UP', instances: 2, up: 1 },
      beta: { status: 'DOWN', instances: 1, up: 0 },
      gamma: { status: 'UP', instances: 1, up: 1 },
    });
    assert.ok(!JSON.stringify(b).includes('127.0.0.1'), 'no instance detail');
  });

  it('gives per-service detail with ?service= and everything with ?detail=1; the verdict covers the fleet', async () => {
    await using h = healthAggregator({ registry: fleet(instances), summaryAbove: 3 });
    const one = await body(h, '/health?service=alpha');
    assert.deepEqual(Object.keys(one.services), ['alpha']);
    assert.deepEqual(
      one.services.alpha.instances.map((i: { instance_id: string }) => i.instance_id),
      ['a1', 'a2'],
    );
    assert.equal(one.status, 'degraded', 'beta is DOWN even though it is not shown');
    const two = await body(h, '/health?service=gamma,nobody&service=beta');
    assert.deepEqual(Object.keys(two.services), ['beta', 'gamma']);
    const all = await body(h, '/health?detail=1');
    assert.deepEqual(Object.keys(all.services), ['alpha', 'beta', 'gamma']);
    assert.equal(all.summary, undefined);
    assert.equal(all.services.gamma.instances.length, 1);
  });

  it('keeps the full furt-format report at or below the threshold, and redacts the summary for outsiders', async () => {
    await using small = healthAggregator({ registry: fleet(instances), summaryAbove: 4 });
    const full = await body(small, '/health');
    assert.equal(full.summary, undefined);
    assert.equal(full.services.alpha.instances.length, 2);
    await using outside = healthAggregator({ registry: fleet(instances), summaryAbove: 3, fullReportFor: () => false });
    assert.deepEqual(await body(outside, '/health'), {
      status: 'degraded',
      service: 'fleetgate',
      services: { alpha: { status: 'UP' }, beta: { status: 'DOWN' }, gamma: { status: 'UP' } },
    });
  });

  it('refuses an invalid summaryAbove', () => {
    assert.throws(() => healthAggregator({ registry: fleet([]), summaryAbove: -1 }), /summaryAbove/);
  });
});
