import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { describe, it } from 'node:test';
import { isFleetgateError } from '../errors.js';
import { createKeyGenerator, jwtSubject } from './key-generators.js';

function req(remoteAddress: string, headers: Record<string, string> = {}): IncomingMessage {
  return { socket: { remoteAddress }, headers } as unknown as IncomingMessage;
}

function jwt(payload: object): string {
  const enc = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
  return `${enc({ alg: 'none' })}.${enc(payload)}.sig`;
}

describe('ip keys use the shared client address (lib/core/client-address.ts)', () => {
  const xff = { 'x-forwarded-for': '203.0.113.9, 198.51.100.7, 10.0.0.2' };

  it('ignores X-Forwarded-For unless told to trust proxies', () => {
    assert.equal(createKeyGenerator('ip')(req('10.0.0.1', xff)), 'ip:10.0.0.1');
    assert.equal(createKeyGenerator('ip')(req('::ffff:127.0.0.1')), 'ip:127.0.0.1');
  });

  it('walks X-Forwarded-For from the right: a forged left-most entry does not choose the bucket', () => {
    assert.equal(createKeyGenerator('ip', { trustProxy: ['10.0.0.0/8'] })(req('10.0.0.1', xff)), 'ip:198.51.100.7');
    const forged = { 'x-forwarded-for': '1.2.3.4, 198.51.100.7' };
    assert.equal(createKeyGenerator('ip', { trustProxy: ['10.0.0.0/8'] })(req('10.0.0.1', forged)), 'ip:198.51.100.7');
  });

  it('rejects true, hop counts and malformed CIDRs', () => {
    for (const bad of [true, 1, ['10.0.0.0/33'], ['nope']]) {
      assert.throws(
        () => createKeyGenerator('ip', { trustProxy: bad as never }),
        (e: unknown) => isFleetgateError(e, 'ERR_FG_INVALID_CONFIG'),
        String(bad),
      );
    }
  });
});

describe('createKeyGenerator', () => {
  it('keys by ip, api key (hashed), header (hashed) and function', () => {
    const r = req('127.0.0.1', { 'x-api-key': 'secret-1', 'x-tenant': 'acme' });
    assert.equal(createKeyGenerator('ip')(r), 'ip:127.0.0.1');
    const apiKey = createKeyGenerator('api-key')(r);
    assert.match(apiKey, /^key:[\w-]{22}$/);
    assert.ok(!apiKey.includes('secret'));
    assert.notEqual(apiKey, createKeyGenerator('api-key')(req('127.0.0.1', { 'x-api-key': 'secret-2' })));
    assert.match(createKeyGenerator({ header: 'X-Tenant' })(r), /^hdr:x-tenant:[\w-]{22}$/);
    assert.equal(createKeyGenerator((q) => `custom:${q.headers['x-tenant']}`)(r), 'custom:acme');
  });

  it('falls back to the ip when the key is absent', () => {
    const r = req('127.0.0.2');
    assert.equal(createKeyGenerator('api-key')(r), 'ip:127.0.0.2');
    assert.equal(createKeyGenerator({ header: 'x-tenant' })(r), 'ip:127.0.0.2');
    assert.equal(createKeyGenerator('jwt-sub')(r), 'ip:127.0.0.2');
  });

  it('jwt-sub decodes (without verifying) the Bearer token sub', () => {
    const gen = createKeyGenerator('jwt-sub');
    assert.equal(gen(req('127.0.0.1', { authorization: `Bearer ${jwt({ sub: 'user-42' })}` })), 'sub:user-42');
    assert.equal(jwtSubject(`bearer ${jwt({ sub: 7 })}`), '7');
    assert.equal(jwtSubject(`Bearer ${jwt({ name: 'x' })}`), undefined);
    assert.equal(jwtSubject('Bearer not-a-jwt'), undefined);
    assert.equal(jwtSubject('Bearer a.%%%.c'), undefined);
    assert.equal(jwtSubject('Basic dXNlcjpwdw=='), undefined);
  });

  it('rejects unknown key specs', () => {
    assert.throws(
      () => createKeyGenerator('cookie' as 'ip'),
      (e: unknown) => isFleetgateError(e, 'ERR_FG_INVALID_CONFIG'),
    );
  });
});
