import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { isFleetgateError } from '../errors.js';
import { parseDuration } from './duration.js';
import { ENV_DEFAULTS, parseEnv } from './env.js';

function invalid(env: Record<string, string>, variable: string): void {
  assert.throws(
    () => parseEnv(env),
    (err: unknown) => isFleetgateError(err, 'ERR_FG_INVALID_CONFIG') && err.message.startsWith(`${variable}=`),
  );
}

describe('parseDuration', () => {
  it('reads ms, s, m, h and bare numbers', () => {
    assert.equal(parseDuration('500ms'), 500);
    assert.equal(parseDuration('90s'), 90_000);
    assert.equal(parseDuration('2m'), 120_000);
    assert.equal(parseDuration('1h'), 3_600_000);
    assert.equal(parseDuration('1.5s'), 1500);
    assert.equal(parseDuration('250'), 250);
  });
  it('rejects anything else', () => {
    for (const bad of ['', 'banana', '-1s', '10 days', '1e3', 's']) assert.equal(parseDuration(bad), undefined, bad);
  });
});

describe('parseEnv', () => {
  it('has furt defaults and frozen DEFAULTS', () => {
    const env = parseEnv({});
    assert.deepEqual(env, {
      ...ENV_DEFAULTS,
      allowFrom: [...ENV_DEFAULTS.allowFrom],
      adminAllowFrom: [...ENV_DEFAULTS.adminAllowFrom],
    });
    assert.deepEqual(env.registerLimit, { capacity: 20, refillPerSecond: 5 });
    assert.equal(env.registryTtlMs, 90_000);
    assert.equal(env.healthIntervalMs, 30_000);
    assert.ok(Object.isFrozen(ENV_DEFAULTS));
  });

  it('reads every variable', () => {
    const env = parseEnv({
      ERUGATEWAYPORT: '9000',
      REGISTRY_TYPE: 'redis_cluster',
      REGISTRY_REDIS_ADDR: 'redis://127.0.0.1:7000, redis://127.0.0.1:7001',
      REGISTRY_TTL: '30s',
      REGISTRY_ALLOW_FROM: '10.0.0.0/8,::1/128',
      REGISTRY_TOKEN: 'sekrit',
      HEALTH_CHECK_INTERVAL: '500ms',
      HEALTH_CHECK_TIMEOUT: '1s',
      HEALTH_MAX_FAILURES: '5',
      HEALTH_DOWN_INTERVAL: '2m',
      HEALTH_STOP_AFTER: '20',
      TRACE_URL: 'http://127.0.0.1:4318/v1/traces',
      REGISTRY_REGISTER_LIMIT: '500/100',
      PANIC_THRESHOLD: '0.5',
      SERVER_HEADERS_TIMEOUT: '5s',
      SERVER_REQUEST_TIMEOUT: '20s',
      SERVER_KEEPALIVE_TIMEOUT: '2s',
      SERVER_MAX_HEADER_SIZE: '8192',
      SERVER_MAX_CONNECTIONS: '500',
      SHUTDOWN_DELAY: '1s',
      SHUTDOWN_GRACE: '30s',
      TRUSTED_PROXIES: 'loopback, 10.0.0.0/8',
      ADMIN_ALLOW_FROM: '10.1.0.0/16',
      ADMIN_TOKEN: 'ops',
      GATEWAY_NAME: 'edge-1',
      GATEWAY_MAX_HOPS: '4',
      REGISTRY_LIST_TIMEOUT: '30s',
    });
    assert.equal(env.registryListTimeoutMs, 30_000);
    assert.equal(parseEnv({}).registryListTimeoutMs, 10_000);
    assert.deepEqual(env.adminAllowFrom, ['10.1.0.0/16']);
    assert.equal(env.adminToken, 'ops');
    assert.equal(env.panicThreshold, 0.5);
    assert.deepEqual(
      [env.serverHeadersTimeoutMs, env.serverRequestTimeoutMs, env.serverKeepAliveTimeoutMs],
      [5000, 20_000, 2000],
    );
    assert.deepEqual([env.serverMaxHeaderSize, env.serverMaxConnections], [8192, 500]);
    assert.deepEqual([env.shutdownDelayMs, env.shutdownGraceMs], [1000, 30_000]);
    assert.equal(parseEnv({}).panicThreshold, 0, 'panic mode is off by default');
    assert.equal(parseEnv({ PANIC_THRESHOLD: 'off' }).panicThreshold, 0);
    assert.deepEqual(env.trustedProxies, ['127.0.0.0/8', '::1/128', '10.0.0.0/8']);
    assert.equal(env.gatewayName, 'edge-1');
    assert.equal(env.maxHops, 4);
    assert.deepEqual(env.registerLimit, { capacity: 500, refillPerSecond: 100 });
    assert.equal(parseEnv({ REGISTRY_REGISTER_LIMIT: 'off' }).registerLimit, false);
    assert.equal(env.port, 9000);
    assert.equal(env.registryType, 'REDIS_CLUSTER');
    assert.deepEqual(env.redisAddrs, ['redis://127.0.0.1:7000', 'redis://127.0.0.1:7001']);
    assert.equal(env.registryTtlMs, 30_000);
    assert.deepEqual(env.allowFrom, ['10.0.0.0/8', '::1/128']);
    assert.equal(env.registryToken, 'sekrit');
    assert.equal(env.healthIntervalMs, 500);
    assert.equal(env.healthTimeoutMs, 1000);
    assert.equal(env.healthMaxFailures, 5);
    assert.equal(env.healthDownIntervalMs, 120_000);
    assert.equal(env.healthStopAfter, 20);
    assert.equal(env.traceUrl, 'http://127.0.0.1:4318/v1/traces');
  });

  it('ERUGATEWAYPORT wins over PORT', () => {
    assert.equal(parseEnv({ PORT: '1', ERUGATEWAYPORT: '2' }).port, 2);
    assert.equal(parseEnv({ PORT: '3' }).port, 3);
  });

  it('names the variable and the accepted form when a value is invalid', () => {
    invalid({ REGISTRY_TTL: 'banana' }, 'REGISTRY_TTL');
    invalid({ PORT: '70000' }, 'PORT');
    invalid({ ERUGATEWAYPORT: 'x' }, 'ERUGATEWAYPORT');
    invalid({ REGISTRY_TYPE: 'MONGO' }, 'REGISTRY_TYPE');
    invalid({ REGISTRY_TYPE: 'REDIS' }, 'REGISTRY_REDIS_ADDR');
    invalid({ REGISTRY_TYPE: 'ETCD' }, 'REGISTRY_ETCD_ENDPOINTS');
    invalid({ REGISTRY_REDIS_ADDR: 'http://x:1' }, 'REGISTRY_REDIS_ADDR');
    invalid({ REGISTRY_ALLOW_FROM: 'everyone' }, 'REGISTRY_ALLOW_FROM');
    invalid({ HEALTH_MAX_FAILURES: '0' }, 'HEALTH_MAX_FAILURES');
    invalid({ REGISTRY_PRESERVE_THRESHOLD: '2' }, 'REGISTRY_PRESERVE_THRESHOLD');
    invalid({ REGISTRY_LIST_TIMEOUT: '0ms' }, 'REGISTRY_LIST_TIMEOUT');
    invalid({ TRACE_URL: 'not a url' }, 'TRACE_URL');
    invalid({ ACCESS_LOG: '2' }, 'ACCESS_LOG');
    assert.equal(parseEnv({ ACCESS_LOG: 'off' }).accessLogSample, 0);
    assert.equal(parseEnv({ ACCESS_LOG: '0.25' }).accessLogSample, 0.25);
    assert.equal(parseEnv({}).accessLogSample, 1);
    invalid({ TRACE_URL: 'ftp://tempo:4317' }, 'TRACE_URL');
    assert.equal(parseEnv({ TRACE_URL: 'tempo:4317' }).traceUrl, 'tempo:4317', 'the seed’s form');
    invalid({ REGISTRY_REGISTER_LIMIT: 'lots' }, 'REGISTRY_REGISTER_LIMIT');
    invalid({ REGISTRY_REGISTER_LIMIT: '0/5' }, 'REGISTRY_REGISTER_LIMIT');
    invalid({ PANIC_THRESHOLD: '1.5' }, 'PANIC_THRESHOLD');
    invalid({ SERVER_REQUEST_TIMEOUT: 'forever' }, 'SERVER_REQUEST_TIMEOUT');
    invalid({ SERVER_MAX_HEADER_SIZE: '10' }, 'SERVER_MAX_HEADER_SIZE');
    invalid({ SERVER_MAX_CONNECTIONS: '0' }, 'SERVER_MAX_CONNECTIONS');
    invalid({ SHUTDOWN_GRACE: '-1s' }, 'SHUTDOWN_GRACE');
    invalid({ ADMIN_ALLOW_FROM: 'anyone' }, 'ADMIN_ALLOW_FROM');
    invalid({ PANIC_THRESHOLD: 'sometimes' }, 'PANIC_THRESHOLD');
    invalid({ TRUSTED_PROXIES: 'true' }, 'TRUSTED_PROXIES');
    invalid({ TRUSTED_PROXIES: '10.0.0.0/33' }, 'TRUSTED_PROXIES');
    invalid({ GATEWAY_NAME: 'two words' }, 'GATEWAY_NAME');
    invalid({ GATEWAY_MAX_HOPS: '0' }, 'GATEWAY_MAX_HOPS');
    assert.throws(() => parseEnv({ REGISTRY_TTL: 'banana' }), /expected a number with an optional unit/);
  });
});

describe('REGISTRY_SERVICE_KEYS_FILE', () => {
  const dir = mkdtempSync(join(tmpdir(), 'fg-keys-'));
  const file = (name: string, text: string): string => {
    const path = join(dir, name);
    writeFileSync(path, text);
    return path;
  };

  it('reads keys from YAML or JSON; unset means no keys', () => {
    assert.equal(parseEnv({}).serviceKeys, undefined);
    const yaml = file(
      'keys.yaml',
      'keys:\n  - name: billing\n    key: billing-secret-0123456789\n    services: [billing]\n    permissions: [billing:read]\n',
    );
    assert.deepEqual(parseEnv({ REGISTRY_SERVICE_KEYS_FILE: yaml }).serviceKeys, [
      { name: 'billing', key: 'billing-secret-0123456789', services: ['billing'], permissions: ['billing:read'] },
    ]);
    const json = file('keys.json', JSON.stringify([{ name: 'a', sha256: 'ab'.repeat(32), services: ['*'] }]));
    assert.deepEqual(parseEnv({ REGISTRY_SERVICE_KEYS_FILE: json }).serviceKeys, [
      { name: 'a', sha256: 'ab'.repeat(32), services: ['*'], permissions: [] },
    ]);
  });

  it('names the variable for a missing file or invalid content', () => {
    invalid({ REGISTRY_SERVICE_KEYS_FILE: join(dir, 'absent.yaml') }, 'REGISTRY_SERVICE_KEYS_FILE');
    for (const text of [
      'keys: [{ name: x, services: [a] }]',
      'keys: [{ name: x, key: short, services: [a] }]',
      ': :',
    ]) {
      invalid({ REGISTRY_SERVICE_KEYS_FILE: file('bad.yaml', text) }, 'REGISTRY_SERVICE_KEYS_FILE');
    }
  });
});
