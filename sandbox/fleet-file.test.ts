import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isFleetgateError } from '../lib/errors.js';
import { loadFleetFile, parseFleet } from './fleet-file.js';
import { DEFAULT_FLEET_FILE } from './paths.js';

describe('fleet file', () => {
  it('the packaged fleet parses, with short TTL and health intervals for fast drills', () => {
    const fleet = loadFleetFile(DEFAULT_FLEET_FILE);
    assert.deepEqual(
      fleet.services.map((s) => [s.name, s.instances]),
      [
        ['orders', 2],
        ['users', 2],
        ['catalog', 1],
      ],
    );
    assert.equal(fleet.gateway.ttlMs, 5000);
    assert.equal(fleet.gateway.healthIntervalMs, 1000);
    assert.deepEqual(fleet.services[0]?.routes[0], { method: 'GET', path: '/api/orders/**' });
    assert.deepEqual(fleet.services[0]?.latency, { minMs: 2, maxMs: 10 });
  });

  it('applies defaults to a minimal file', () => {
    const fleet = parseFleet('services:\n  - name: a\n    routes: [/a/**]\n');
    assert.equal(fleet.gateway.count, 1);
    assert.equal(fleet.gateway.port, 0);
    assert.equal(fleet.supervisor.restartCrashed, true);
    assert.equal(fleet.supervisor.restartDelayMs, 3000);
    assert.deepEqual(fleet.services[0], {
      name: 'a',
      instances: 1,
      routes: [{ method: '*', path: '/a/**' }],
      latency: { minMs: 0, maxMs: 0 },
      errorRate: 0,
      payloadBytes: 0,
    });
  });

  it('reads every latency form', () => {
    const latency = (v: string) =>
      parseFleet(`services:\n  - name: a\n    routes: [/a]\n    latency: ${v}\n`).services[0]?.latency;
    assert.deepEqual(latency('10'), { minMs: 10, maxMs: 10 });
    assert.deepEqual(latency('10ms'), { minMs: 10, maxMs: 10 });
    assert.deepEqual(latency('5-20ms'), { minMs: 5, maxMs: 20 });
    assert.deepEqual(latency('1s-2s'), { minMs: 1000, maxMs: 2000 });
    assert.deepEqual(latency('{ min: 3ms, max: 1ms }'), { minMs: 3, maxMs: 3 });
  });

  it('lists every problem with its field path', () => {
    const text =
      'services:\n  - name: Orders\n    routes: ["FETCH /x", "y"]\n    latency: fast\n  - name: b\n    routes: []\nbogus: 1\n';
    assert.throws(
      () => parseFleet(text, 'bad.yaml'),
      (err: unknown) => {
        assert.ok(isFleetgateError(err, 'ERR_FG_INVALID_CONFIG'));
        assert.match(err.message, /^bad\.yaml is invalid:/);
        assert.match(err.message, /services\[0\]\.name: a service name is lower case/);
        assert.match(err.message, /services\[0\]\.routes\[0\]: unknown HTTP method "FETCH"/);
        assert.match(err.message, /services\[0\]\.routes\[1\]: a route path must start with '\/'/);
        assert.match(err.message, /services\[0\]\.latency: expected a latency like 10ms or 5-20ms/);
        assert.match(err.message, /services\[1\]\.routes: give the service at least one route/);
        assert.match(err.message, /\(top level\): Unrecognized key: "bogus"/);
        return true;
      },
    );
  });

  it('rejects duplicate services and reports YAML syntax errors with the line', () => {
    assert.throws(
      () => parseFleet('services:\n  - { name: a, routes: [/a] }\n  - { name: a, routes: [/b] }\n'),
      /services\[1\]\.name: duplicate service a/,
    );
    assert.throws(
      () => parseFleet('services:\n  - name: a\n   routes: [\n', 'y.yaml'),
      /y\.yaml is invalid:\n {2}- .*line \d+/,
    );
  });

  it('names the file it cannot read', () => {
    assert.throws(() => loadFleetFile('/nonexistent/fleet.yaml'), /cannot read fleet file \/nonexistent\/fleet\.yaml/);
  });
});
