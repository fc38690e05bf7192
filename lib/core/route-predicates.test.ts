import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { gatewaysDisjoint, gatewaysProblem, servesGateway } from './gateway-targets.js';
import { setRequestClaims } from './request-claims.js';
import {
  type CompiledPredicates,
  compilePredicates,
  isPredicateProblem,
  PREDICATE_LIMITS,
  predicatesDisjoint,
  queryParam,
  type RoutePredicates,
} from './route-predicates.js';

function compiled(p: RoutePredicates): CompiledPredicates {
  const c = compilePredicates(p);
  assert.ok(c !== undefined && !isPredicateProblem(c), JSON.stringify(c));
  return c;
}

function refusal(p: unknown): { at: string; reason: string } {
  const c = compilePredicates(p as RoutePredicates);
  assert.ok(c !== undefined && isPredicateProblem(c), `accepted ${JSON.stringify(p)}`);
  return c;
}

const req = (headers: Record<string, string | string[]>) => ({ headers });

describe('compilePredicates', () => {
  it('treats absent and empty predicates as none', () => {
    assert.equal(compilePredicates(undefined), undefined);
    assert.equal(compilePredicates({}), undefined);
    assert.equal(compilePredicates({ hosts: [], headers: [] }), undefined);
  });

  it('matches hosts exactly or by wildcard, any case, port ignored', () => {
    const p = compiled({ hosts: ['api.example.com', '*.beta.example.com'] });
    assert.equal(p.test(req({ host: 'API.example.com:8080' }), ''), true);
    assert.equal(p.test(req({ host: 'x.beta.example.com' }), ''), true);
    assert.equal(p.test(req({ host: 'a.b.beta.example.com' }), ''), true);
    assert.equal(p.test(req({ host: 'beta.example.com' }), ''), false);
    assert.equal(p.test(req({ host: 'evilbeta.example.com' }), ''), false);
    assert.equal(p.test(req({}), ''), false);
  });

  it('matches headers exact, by regex, or present; repeated headers are joined', () => {
    const exact = compiled({ headers: [{ name: 'X-Beta', value: 'true' }] });
    assert.equal(exact.test(req({ 'x-beta': 'true' }), ''), true);
    assert.equal(exact.test(req({ 'x-beta': 'TRUE' }), ''), false);
    assert.equal(exact.test(req({}), ''), false);
    const re = compiled({ headers: [{ name: 'user-agent', regex: '^beta-client/[0-9]+' }] });
    assert.equal(re.test(req({ 'user-agent': 'beta-client/12 x' }), ''), true);
    assert.equal(re.test(req({ 'user-agent': 'client/12' }), ''), false);
    const present = compiled({ headers: [{ name: 'x-debug' }] });
    assert.equal(present.test(req({ 'x-debug': '' }), ''), true);
    const joined = compiled({ headers: [{ name: 'x-tag', value: 'a, b' }] });
    assert.equal(joined.test(req({ 'x-tag': ['a', 'b'] }), ''), true);
  });

  it('matches query parameters by their first occurrence, decoded', () => {
    const p = compiled({ query: [{ name: 'channel', value: 'beta one' }] });
    assert.equal(p.test(req({}), '?x=1&channel=beta+one'), true);
    assert.equal(p.test(req({}), '?channel=beta%20one&channel=x'), true);
    assert.equal(p.test(req({}), '?channel=x&channel=beta+one'), false);
    assert.equal(p.test(req({}), ''), false);
    assert.equal(compiled({ query: [{ name: 'debug' }] }).test(req({}), '?debug'), true);
    assert.equal(queryParam('?a=%zz', 'a'), undefined);
    assert.equal(queryParam('?a%3D=1', 'a='), '1');
  });

  it('matches verified claims: scalars, array elements, nested names; no claims, no match', () => {
    const p = compiled({ claims: [{ name: 'groups', value: 'beta-testers' }] });
    const r1 = req({});
    setRequestClaims(r1, { groups: ['staff', 'beta-testers'] });
    assert.equal(p.test(r1, ''), true);
    const r2 = req({});
    setRequestClaims(r2, { groups: 'beta-testers' });
    assert.equal(p.test(r2, ''), true);
    assert.equal(p.test(req({}), ''), false);
    const nested = compiled({ claims: [{ name: 'realm_access.roles', regex: '^beta' }] });
    const r3 = req({});
    setRequestClaims(r3, { realm_access: { roles: ['beta-1'] } });
    assert.equal(nested.test(r3, ''), true);
    const flag = compiled({ claims: [{ name: 'beta', value: 'true' }] });
    const r4 = req({});
    setRequestClaims(r4, { beta: true });
    assert.equal(flag.test(r4, ''), true);
  });

  it('needs every condition', () => {
    const p = compiled({ hosts: ['api.x'], headers: [{ name: 'x-beta', value: '1' }], query: [{ name: 'v' }] });
    assert.equal(p.test(req({ host: 'api.x', 'x-beta': '1' }), '?v'), true);
    assert.equal(p.test(req({ host: 'api.x', 'x-beta': '1' }), ''), false);
    assert.equal(p.test(req({ host: 'api.y', 'x-beta': '1' }), '?v'), false);
  });

  it('gives equal predicates equal keys, whatever the order and case', () => {
    const a = compiled({ headers: [{ name: 'X-A', value: '1' }, { name: 'x-b' }], hosts: ['B.x', 'a.x'] });
    const b = compiled({ hosts: ['a.x', 'b.x'], headers: [{ name: 'x-b' }, { name: 'x-a', value: '1' }] });
    assert.equal(a.key, b.key);
    assert.notEqual(a.key, compiled({ headers: [{ name: 'x-a', value: '2' }] }).key);
  });

  it('refuses bad input with where and why, before doing unbounded work (hostile cases)', () => {
    assert.equal(refusal({ cookies: [] }).at, 'cookies');
    assert.equal(refusal('x').reason, 'must be an object');
    assert.equal(refusal({ hosts: 'a.x' }).at, 'hosts');
    assert.equal(refusal({ hosts: ['bad host'] }).at, 'hosts[0]');
    assert.equal(refusal({ hosts: ['a.*.x'] }).at, 'hosts[0]');
    assert.equal(refusal({ hosts: Array(PREDICATE_LIMITS.maxItems + 1).fill('a.x') }).at, 'hosts');
    assert.equal(refusal({ headers: Array(1e6).fill({ name: 'x' }) }).at, 'headers');
    assert.equal(refusal({ headers: [{ name: 'bad name' }] }).at, 'headers[0].name');
    assert.equal(refusal({ headers: [{ name: 'x'.repeat(200) }] }).at, 'headers[0].name');
    assert.equal(refusal({ headers: [{ name: 'x', value: 'v'.repeat(300) }] }).at, 'headers[0].value');
    assert.equal(refusal({ headers: [{ name: 'x', value: 'a\nb' }] }).at, 'headers[0].value');
    assert.equal(refusal({ headers: [{ name: 'x', value: 'a', regex: 'a' }] }).at, 'headers[0]');
    assert.equal(refusal({ headers: [{ name: 'x', other: 1 }] }).at, 'headers[0].other');
    assert.equal(refusal({ query: [{ name: 'a=b' }] }).at, 'query[0].name');
    const evil = refusal({ claims: [{ name: 'groups', regex: '(a+)+$' }] });
    assert.equal(evil.at, 'claims[0].regex');
    assert.match(evil.reason, /group may only be made optional/);
  });
});

describe('predicatesDisjoint', () => {
  const h = (value: string) => compiled({ headers: [{ name: 'x-v', value }] });
  it('proves disjointness only where it holds', () => {
    assert.equal(predicatesDisjoint(h('1'), h('2')), true);
    assert.equal(predicatesDisjoint(h('1'), h('1')), false);
    assert.equal(predicatesDisjoint(h('1'), undefined), false);
    assert.equal(predicatesDisjoint(h('1'), compiled({ headers: [{ name: 'x-w', value: '2' }] })), false);
    assert.equal(predicatesDisjoint(h('1'), compiled({ headers: [{ name: 'x-v', regex: '^[a-z]+$' }] })), true);
    assert.equal(predicatesDisjoint(h('a'), compiled({ headers: [{ name: 'x-v', regex: '^[a-z]+$' }] })), false);
    const q = (value: string) => compiled({ query: [{ name: 'v', value }] });
    assert.equal(predicatesDisjoint(q('1'), q('2')), true);
    // A claim may be an array that holds both values: never disjoint.
    const c = (value: string) => compiled({ claims: [{ name: 'g', value }] });
    assert.equal(predicatesDisjoint(c('1'), c('2')), false);
  });

  it('compares host lists, wildcards included', () => {
    const hosts = (...list: string[]) => compiled({ hosts: list });
    assert.equal(predicatesDisjoint(hosts('a.x'), hosts('b.x')), true);
    assert.equal(predicatesDisjoint(hosts('a.x', 'b.x'), hosts('b.x')), false);
    assert.equal(predicatesDisjoint(hosts('*.x'), hosts('a.x')), false);
    assert.equal(predicatesDisjoint(hosts('*.x'), hosts('x')), true);
    assert.equal(predicatesDisjoint(hosts('*.a.x'), hosts('*.x')), false);
    assert.equal(predicatesDisjoint(hosts('*.a.x'), hosts('*.b.x')), true);
  });
});

describe('gateway targets', () => {
  it('serves untargeted routes everywhere and targeted ones only on the named gateways', () => {
    assert.equal(servesGateway(undefined, undefined), true);
    assert.equal(servesGateway([], 'internal'), true);
    assert.equal(servesGateway(['public'], 'public'), true);
    assert.equal(servesGateway(['public'], 'internal'), false);
    assert.equal(servesGateway(['public'], undefined), false);
    assert.equal(gatewaysDisjoint(['public'], ['internal']), true);
    assert.equal(gatewaysDisjoint(['public', 'internal'], ['internal']), false);
    assert.equal(gatewaysDisjoint(['public'], undefined), false);
    assert.equal(gatewaysProblem(['public']), undefined);
    assert.match(gatewaysProblem(['bad name']) ?? '', /gateways\[0\]/);
    assert.match(gatewaysProblem('public') ?? '', /list/);
    assert.match(gatewaysProblem(Array(17).fill('a')) ?? '', /at most 16/);
  });
});
