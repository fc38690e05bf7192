import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { describe, test } from 'node:test';
import { isFleetgateError } from '../errors.js';
import {
  ClientAddressResolver,
  createAllowList,
  normaliseIp,
  parseCidr,
  parseTrustProxy,
  sourceKey,
} from './client-address.js';

function req(remoteAddress: string | undefined, headers: Record<string, string> = {}): IncomingMessage {
  return { socket: { remoteAddress }, headers } as unknown as IncomingMessage;
}

describe('CIDR allow-lists', () => {
  test('IPv4', () => {
    const list = createAllowList(['10.0.0.0/8', '192.168.1.0/24', '203.0.113.9']);
    assert.ok(list.allows('10.0.0.1'));
    assert.ok(list.allows('10.255.255.255'));
    assert.ok(!list.allows('11.0.0.1'));
    assert.ok(list.allows('192.168.1.77'));
    assert.ok(!list.allows('192.168.2.1'));
    assert.ok(list.allows('203.0.113.9'));
    assert.ok(!list.allows('203.0.113.10'));
    assert.ok(createAllowList(['0.0.0.0/0']).allows('198.51.100.1'));
    assert.ok(!createAllowList(['0.0.0.0/0']).allows('2001:db8::1'));
    // Host bits in the CIDR are masked off.
    assert.ok(createAllowList(['10.1.2.3/8']).allows('10.9.9.9'));
  });

  test('remembered verdicts: the same answer every time, and past the bound of remembered addresses', () => {
    const list = createAllowList(['10.0.0.0/16']);
    for (let round = 0; round < 2; round++) {
      // 5,000 distinct addresses: more than the 4,096 remembered, so the memory starts over once.
      for (let i = 0; i < 5000; i++) {
        const inside = `10.0.${i >> 8}.${i & 255}`;
        const outside = `10.1.${i >> 8}.${i & 255}`;
        assert.ok(list.allows(inside), inside);
        assert.ok(!list.allows(outside), outside);
      }
    }
    assert.ok(!list.allows('::ffff:10.1.0.1'));
    assert.ok(list.allows('::ffff:10.0.0.1'));
  });

  test('IPv6, including zero compression, zones and brackets', () => {
    const list = createAllowList(['::1/128', '2001:db8::/32', 'fe80::/10']);
    assert.ok(list.allows('::1'));
    assert.ok(list.allows('0:0:0:0:0:0:0:1'));
    assert.ok(!list.allows('::2'));
    assert.ok(list.allows('2001:db8:ffff::1'));
    assert.ok(list.allows('2001:0DB8:0000:0000:0000:0000:0000:0001'));
    assert.ok(!list.allows('2001:db9::1'));
    assert.ok(list.allows('fe80::1%eth0'));
    assert.ok(list.allows('[2001:db8::5]'));
    assert.ok(createAllowList(['::/0']).allows('2001:db8::1'));
    assert.ok(!createAllowList(['::1/128']).allows('127.0.0.1'));
  });

  test('IPv4-mapped IPv6 matches IPv4 CIDRs, and ::ffff:127.0.0.0/104 is 127.0.0.0/8', () => {
    assert.equal(normaliseIp('::ffff:127.0.0.1'), '127.0.0.1');
    assert.equal(normaliseIp('::FFFF:127.0.0.1'), '127.0.0.1');
    const v4 = createAllowList(['127.0.0.0/8']);
    assert.ok(v4.allows('::ffff:127.0.0.1'));
    assert.ok(v4.allows('::FFFF:127.9.9.9'));
    assert.ok(v4.allows('::ffff:7f00:1'));
    assert.ok(!v4.allows('::ffff:128.0.0.1'));
    const mapped = createAllowList(['::ffff:127.0.0.0/104']);
    assert.ok(mapped.allows('127.0.0.1'));
    assert.ok(mapped.allows('::ffff:127.1.2.3'));
    assert.ok(!mapped.allows('10.0.0.1'));
    assert.deepEqual(parseCidr('127.0.0.0/8'), {
      source: '127.0.0.0/8',
      address: '127.0.0.0',
      prefix: 8,
      family: 'ipv4',
    });
  });

  test('the default loopback list', () => {
    const list = createAllowList(['127.0.0.0/8', '::1/128', '::ffff:127.0.0.0/104']);
    for (const a of ['127.0.0.1', '::1', '::ffff:127.0.0.1']) assert.ok(list.allows(a), a);
    for (const a of ['10.0.0.1', '::2', '::ffff:10.0.0.1', '', 'localhost', undefined])
      assert.ok(!list.allows(a), String(a));
  });

  test('an empty list allows nobody; malformed CIDRs throw ERR_FG_INVALID_CONFIG naming the source', () => {
    assert.ok(!createAllowList([]).allows('127.0.0.1'));
    for (const bad of [
      '10.0.0.0/33',
      '::1/129',
      '10.0.0.0/',
      '10.0.0/8',
      'example.com',
      '10.0.0.0/8x',
      'fe80::1%eth0/64',
    ]) {
      assert.throws(
        () => createAllowList([bad], 'REGISTRY_ALLOW_FROM'),
        (err: Error & { code?: string }) =>
          err.code === 'ERR_FG_INVALID_CONFIG' && err.message.includes('REGISTRY_ALLOW_FROM'),
        bad,
      );
    }
  });
});

describe('trustProxy: one meaning', () => {
  const xff = { 'x-forwarded-for': '203.0.113.9, 198.51.100.7, 10.0.0.2' };

  test('nobody trusted: the socket peer is the client whatever the headers say', () => {
    for (const trust of [false, [], undefined] as const) {
      const r = new ClientAddressResolver(trust);
      assert.equal(r.enabled, false);
      assert.deepEqual(r.resolve(req('10.0.0.1', xff)), { address: '10.0.0.1', peer: '10.0.0.1', trustedPeer: false });
    }
    assert.equal(new ClientAddressResolver().addressOf(req('::ffff:127.0.0.1')), '127.0.0.1');
    assert.equal(new ClientAddressResolver().addressOf(req(undefined)), 'unknown');
  });

  test('X-Forwarded-For is walked from the right, skipping trusted hops; the first untrusted one is the client', () => {
    assert.equal(new ClientAddressResolver(['10.0.0.0/8']).addressOf(req('10.0.0.1', xff)), '198.51.100.7');
    assert.equal(
      new ClientAddressResolver(['10.0.0.0/8', '198.51.100.7']).addressOf(req('10.0.0.1', xff)),
      '203.0.113.9',
    );
    // Every hop trusted: the left-most one is the client.
    assert.equal(new ClientAddressResolver(['0.0.0.0/0']).addressOf(req('10.0.0.1', xff)), '203.0.113.9');
    assert.equal(
      new ClientAddressResolver(['::1/128']).addressOf(req('::1', { 'x-forwarded-for': '2001:db8::1' })),
      '2001:db8::1',
    );
    // A forged left-most entry never wins over the hop the trusted proxy appended.
    const forged = { 'x-forwarded-for': '127.0.0.1, 192.0.2.50' };
    assert.equal(new ClientAddressResolver(['loopback']).addressOf(req('127.0.0.1', forged)), '192.0.2.50');
  });

  test('a peer that is not a trusted proxy cannot choose its address', () => {
    const r = new ClientAddressResolver(['10.0.0.0/8']);
    assert.deepEqual(r.resolve(req('192.0.2.1', xff)), { address: '192.0.2.1', peer: '192.0.2.1', trustedPeer: false });
  });

  test('garbage in X-Forwarded-For ends the walk at the last proxy that wrote an address', () => {
    const r = new ClientAddressResolver(['10.0.0.0/8']);
    assert.equal(r.addressOf(req('10.0.0.1', { 'x-forwarded-for': 'evil, 10.0.0.7' })), '10.0.0.7');
    assert.equal(r.addressOf(req('10.0.0.1', { 'x-forwarded-for': '' })), '10.0.0.1');
    assert.equal(r.addressOf(req('10.0.0.1', { 'x-forwarded-for': '[2001:db8::9], ::ffff:10.0.0.3' })), '2001:db8::9');
  });

  test('names expand to networks; true, hop counts and bad entries are refused with a reason', () => {
    assert.deepEqual(parseTrustProxy(['loopback', '10.0.0.0/8']), ['127.0.0.0/8', '::1/128', '10.0.0.0/8']);
    assert.ok(new ClientAddressResolver(['private']).trusts('172.20.1.1'));
    assert.ok(!new ClientAddressResolver(['private']).trusts('172.32.1.1'));
    for (const bad of [true, 1, 'loopback', ['10.0.0.0/33'], ['nope'], [7]]) {
      assert.throws(
        () => new ClientAddressResolver(bad as never, 'TRUSTED_PROXIES'),
        (e: unknown) => isFleetgateError(e, 'ERR_FG_INVALID_CONFIG') && e.message.includes('TRUSTED_PROXIES'),
        String(bad),
      );
    }
  });
});

describe('sourceKey', () => {
  test('folds mapped IPv4 and keys IPv6 by /64', () => {
    assert.equal(sourceKey('::ffff:10.1.2.3'), '10.1.2.3');
    assert.equal(sourceKey('10.1.2.3'), '10.1.2.3');
    assert.equal(sourceKey('2001:db8:1:2::1'), '2001:db8:1:2::/64');
    assert.equal(sourceKey('2001:db8:1:2::1'), sourceKey('2001:0db8:0001:0002:ffff::9'));
    assert.notEqual(sourceKey('2001:db8:1:2::1'), sourceKey('2001:db8:1:3::1'));
    assert.equal(sourceKey('::1'), '0:0:0:0::/64');
    assert.equal(sourceKey(undefined), 'unknown');
  });
});
