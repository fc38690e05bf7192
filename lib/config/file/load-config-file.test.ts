import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isFleetgateError } from '../../errors.js';
import { envFromConfig, restartOnlyChanges } from './env-overlay.js';
import { parseConfigText } from './load-config-file.js';

function refusal(text: string): string {
  try {
    parseConfigText(text, 'fleetgate.yaml');
  } catch (err) {
    assert.ok(isFleetgateError(err, 'ERR_FG_INVALID_CONFIG'));
    return err.message;
  }
  assert.fail('accepted');
}

describe('parseConfigText', () => {
  it('reads every section, durations in ms', () => {
    const c = parseConfigText(
      [
        'gateway: { name: public, port: 0 }',
        'panicThreshold: 0.5',
        'timeouts: { upstream: 10s, connect: 500ms, headers: 15s }',
        'routes:',
        '  - path: /shop/**',
        '    service: shop',
        '    version: v2',
        '    stripPrefix: /shop',
        '    timeout: 2s',
        '    predicates: { headers: [{ name: x-beta, value: "true" }] }',
        '    gateways: [public]',
        'apiKeys: { required: false, keys: [{ name: furt, key: "0123456789abcdef", permissions: ["comments:read"] }] }',
        'jwt: { secret: "0123456789abcdef0123456789abcdef", audience: api, required: false, permissionAs: false }',
        'rateLimits: { global: { limit: 100, window: 1m }, classes: { free: { limit: 10, window: 1m } } }',
      ].join('\n'),
      'fleetgate.yaml',
    );
    assert.equal(c.routes?.[0]?.timeout, 2000);
    assert.equal(c.timeouts?.connect, 500);
    assert.equal(c.routes?.[0]?.predicates?.headers?.[0]?.value, 'true');
    assert.deepEqual(envFromConfig(c), {
      GATEWAY_NAME: 'public',
      PORT: '0',
      PANIC_THRESHOLD: '0.5',
      SERVER_HEADERS_TIMEOUT: '15000',
    });
    assert.deepEqual(restartOnlyChanges(c, { ...c, gateway: { name: 'internal', port: 0 } }), ['gateway.name']);
  });

  it('an empty file is an empty configuration', () => {
    assert.deepEqual(parseConfigText('', 'fleetgate.yaml'), {});
  });

  it('names the line and key of every problem', () => {
    const typo = refusal(['gateway:', '  name: public', 'routes:', '  - path: /a/**', '    servce: a'].join('\n'));
    assert.match(typo, /fleetgate\.yaml:4 routes\[0\]: unknown key servce/);
    const bad = refusal(['routes:', '  - path: /a/**', '    timeout: soon'].join('\n'));
    assert.match(bad, /fleetgate\.yaml:3 routes\[0\]\.timeout: must be a duration/);
    const deep = refusal(['routes:', '  - path: /a', '    predicates:', '      headers: [{ name: 7 }]'].join('\n'));
    assert.match(deep, /fleetgate\.yaml:4 routes\[0\]\.predicates\.headers\[0\]\.name/);
    assert.match(refusal('panicThreshold: 2'), /fleetgate\.yaml:1 panicThreshold/);
    assert.match(refusal('routes: [\n  {path: /a'), /fleetgate\.yaml:\d+: /);
    assert.match(refusal('a: 1\na: 2'), /fleetgate\.yaml:\d+: .*[Uu]nique|fleetgate\.yaml:\d+/);
    assert.match(refusal('- 1'), /\(top level\)/);
  });

  it('refuses a billion-laughs alias bomb with a bounded amount of work (hostile case)', () => {
    const lines = ['a: &a [x, x, x, x, x, x, x, x, x, x]'];
    for (let i = 0; i < 9; i++) {
      const prev = String.fromCharCode(97 + i);
      const next = String.fromCharCode(98 + i);
      lines.push(
        `${next}: &${next} [*${prev}, *${prev}, *${prev}, *${prev}, *${prev}, *${prev}, *${prev}, *${prev}, *${prev}, *${prev}]`,
      );
    }
    assert.match(refusal(lines.join('\n')), /fleetgate\.yaml: .*alias/i);
  });
});
