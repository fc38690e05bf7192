import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FleetgateError } from '../errors.js';
import { upstreamHeaderOptions } from './proxy-headers.js';
import { inspectVia, isGatewayId, loopError, loopKindOf, PROCESS_GATEWAY_ID, VIA_LOOP } from './via.js';

describe('Via', () => {
  it('names the kind of a loop refusal for metrics', () => {
    assert.equal(loopKindOf(loopError(VIA_LOOP, 'gw', 10)), 'own_via');
    assert.equal(loopKindOf(loopError(10, 'gw', 10)), 'max_hops');
    assert.equal(loopKindOf(upstreamHeaderOptionsError()), undefined);
  });

  it('counts entries, skipping comments with commas, and finds the gateway’s own id', () => {
    assert.equal(inspectVia('1.1 a', 'me'), 1);
    assert.equal(inspectVia('1.0 fred, 1.1 p.example.net (Apache/1.1, x), HTTP/2 me2', 'me'), 3);
    assert.equal(inspectVia(' , ,1.1 a,,', 'me'), 1);
    assert.equal(inspectVia('1.1 a, 1.1 me (fleetgate)', 'me'), VIA_LOOP);
    assert.equal(inspectVia('1.1 mee', 'me'), 1);
    assert.equal(inspectVia('', 'me'), 0);
    assert.match(PROCESS_GATEWAY_ID, /^fleetgate-[0-9a-f]{10}$/);
    assert.ok(isGatewayId(PROCESS_GATEWAY_ID));
  });

  it('answers 508 ERR_FG_LOOP_DETECTED for a loop and for too many hops', () => {
    assert.equal(loopError(VIA_LOOP, 'me', 10).status, 508);
    assert.match(loopError(VIA_LOOP, 'me', 10).message, /already passed through this gateway \(me\)/);
    assert.deepEqual(loopError(10, 'me', 10).details, { hops: 10, max_hops: 10 });
    assert.equal(loopError(10, 'me', 10).code, 'ERR_FG_LOOP_DETECTED');
  });

  it('refuses bad gateway ids and hop limits', () => {
    for (const bad of [
      { gatewayId: 'a b' },
      { gatewayId: '' },
      { gatewayId: 'x,y' },
      { maxHops: 0 },
      { maxHops: 1.5 },
    ]) {
      assert.throws(() => upstreamHeaderOptions(bad), { code: 'ERR_FG_INVALID_CONFIG' }, JSON.stringify(bad));
    }
  });
});

function upstreamHeaderOptionsError(): FleetgateError {
  return new FleetgateError('ERR_FG_BAD_PATH', 'not a loop');
}
