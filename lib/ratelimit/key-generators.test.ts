import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { describe, it } from 'node:test';
import { isFleetgateError } from '../errors.js';
import { createIpResolver, createKeyGenerator, jwtSubject } from './key-generators.js';

function req(remoteAddress: string, headers: Record<string, string> = {}): IncomingMessage {
  return { socket: { remoteAddress }, headers } as unknown as IncomingMessage;
}

function jwt(payload: object): string {
  const enc = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
  return `${enc({ alg: 'none' })}.${enc(payload)}.sig`;
}

describe('createIpResolver', () => {
  const xff = { 'x-forwarded-for': '203.0.113.9, 198.51.100.7, 10.0.0.2' };

  it('ignores X-Forwarded-For unless told to trust proxies', () => {
    assert.equal(createIpResolver(false)(req('10.0.0.1', xff)), '10.0.0.1');
    assert.equal(createIpResolver(false)(req('::ffff:127.0.0.1')), '127.0.0.1');
  });

  it('trust true takes the left-most address', () => {
    assert.equal(createIpResolver(true)(req('10.0.0.1', xff)), '203.0.113.9');
  });

  it('a hop count believes that many proxies', () => {
    assert.equal(createIpResolver(1)(req('10.0.0.1', xff)), '10.0.0.2');
    assert.equal(createIpResolver(2)(req('10.0.0.1', xff)), '198.51.100.7');
    assert.equal(createIpResolver(9)(req('10.0.0.1', xff)), '203.0.113.9');
  });

  it('a CIDR list skips trusted proxies from the right', () => {
    assert.equal(createIpResolver(['10.0.0.0/8'])(req('10.0.0.1', xff)), '198.51.100.7');
    assert.equal(createIpResolver(['10.0.0.0/8', '198.51.100.7'])(req('10.0.0.1', xff)), '203.0.113.9');
    // A client that is not a trusted proxy cannot spoof its address.
    assert.equal(createIpResolver(['10.0.0.0/8'])(req('192.0.2.1', xff)), '192.0.2.1');
    assert.equal(createIpResolver(['::1/128'])(req('::1', { 'x-forwarded-for': '2001:db8::1' })), '2001:db8::1');
  });

  it('rejects invalid trust settings', () => {
    for (const bad of [['10.0.0.0/33'], ['nope'], -1]) {
      assert.throws(
        () => createIpResolver(bad),
        (e: unknown) => isFleetgateError(e, 'ERR_FG_INVALID_CONFIG'),
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
