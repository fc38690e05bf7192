import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TLS } from '../../fixtures/tls-material.js';
import { upstreamTlsOptions } from './upstream-tls.js';

describe('upstreamTlsOptions', () => {
  it('is undefined without options, and loads the PEM once into a shared context, frozen', () => {
    assert.equal(upstreamTlsOptions(undefined, 't'), undefined);
    const given = { ca: [TLS.ca, Buffer.from(TLS.ca)], cert: TLS.clientCert, key: TLS.clientKey };
    const out = upstreamTlsOptions(given, 't');
    assert.deepEqual(Object.keys(out ?? {}).sort(), ['secureContext']);
    assert.ok(Object.isFrozen(out));
    assert.equal(upstreamTlsOptions(given, 'again'), out, 'the same options object is loaded once');
    const lax = upstreamTlsOptions({ rejectUnauthorized: false }, 't');
    assert.deepEqual(Object.keys(lax ?? {}).sort(), ['rejectUnauthorized', 'secureContext']);
    assert.equal(lax?.rejectUnauthorized, false);
  });

  it('names the owner and the problem in ERR_FG_INVALID_CONFIG', () => {
    const cases: [unknown, RegExp][] = [
      [null, /^t: upstreamTls must be an object$/],
      [{ key: TLS.clientKey }, /cert and key go together/],
      [{ ca: [TLS.ca, 1] }, /ca must be PEM text/],
      [{ passphrase: 1 }, /passphrase must be a string/],
      [{ ca: 'garbage' }, /ca holds no certificate/],
      [{ ca: [TLS.ca, 'garbage'] }, /ca\[1\] holds no certificate/],
      [{ cert: TLS.clientCert, key: TLS.serverKey }, /cannot be loaded/],
    ];
    for (const [tls, message] of cases) {
      assert.throws(
        () => upstreamTlsOptions(tls as never, 't'),
        (err: Error & { code?: string }) => err.code === 'ERR_FG_INVALID_CONFIG' && message.test(err.message),
        JSON.stringify(tls),
      );
    }
  });
});
