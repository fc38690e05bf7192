import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createAllowList, parseCidr, parseIp } from './allow-from.js';

describe('allow-from CIDR matching', () => {
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
    assert.equal(parseIp('127.0.0.1'), parseIp('::ffff:127.0.0.1'));
    assert.equal(parseIp('::ffff:7f00:1'), parseIp('127.0.0.1'));
    const v4 = createAllowList(['127.0.0.0/8']);
    assert.ok(v4.allows('::ffff:127.0.0.1'));
    assert.ok(v4.allows('::FFFF:127.9.9.9'));
    assert.ok(!v4.allows('::ffff:128.0.0.1'));
    const mapped = createAllowList(['::ffff:127.0.0.0/104']);
    assert.ok(mapped.allows('127.0.0.1'));
    assert.ok(mapped.allows('::ffff:127.1.2.3'));
    assert.ok(!mapped.allows('10.0.0.1'));
    assert.deepEqual(parseCidr('127.0.0.0/8').network, parseCidr('::ffff:127.0.0.0/104').network);
    assert.equal(parseCidr('127.0.0.0/8').prefix, 104);
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
