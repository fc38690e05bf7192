import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { describe, it } from 'node:test';
import { lookupOf, resolveIncoming } from './request-resolution.js';
import type { RouteLookup } from './resolve-request.js';
import type { RouteMatch } from './types.js';

function countingTable(): RouteLookup & { calls: number } {
  const table = {
    protocol: 'http' as const,
    calls: 0,
    match(method: string, path: string, query = ''): RouteMatch | undefined {
      table.calls++;
      if (!path.startsWith('/api/')) return undefined;
      return {
        service: 's',
        route: { method, path: '/api/**', permission: `p:${method}` },
        pattern: '/api/**',
        params: {},
        upstreamPath: path + query,
        viaNameFallback: false,
        isStatic: false,
      };
    },
  };
  return table;
}

function request(method: string, url: string): IncomingMessage {
  return { method, url, headers: {} } as IncomingMessage;
}

describe('resolveIncoming', () => {
  it('matches once per request: every later caller gets the same resolution', () => {
    const table = countingTable();
    const req = request('GET', '/api//x');
    const a = resolveIncoming(table, req);
    const b = resolveIncoming(table, req);
    assert.equal(a, b);
    assert.equal(table.calls, 1);
    assert.equal(a.kind === 'route' && a.match.upstreamPath, '/api/x');
  });

  it('resolves again when the target, the method or the table changed', () => {
    const table = countingTable();
    const req = request('GET', '/api/x');
    resolveIncoming(table, req);
    req.url = '/api/y';
    const moved = resolveIncoming(table, req);
    assert.equal(moved.kind === 'route' && moved.match.upstreamPath, '/api/y');
    req.method = 'POST';
    const post = resolveIncoming(table, req);
    assert.equal(post.kind === 'route' && post.match.route.permission, 'p:POST');
    const other = countingTable();
    resolveIncoming(other, req);
    assert.equal(other.calls, 1);
    assert.equal(table.calls, 3);
  });

  it('a preflight method is resolved but never memoised for the request', () => {
    const table = countingTable();
    const req = request('OPTIONS', '/api/x');
    const put = resolveIncoming(table, req, 'PUT');
    assert.equal(put.kind === 'route' && put.match.route.permission, 'p:PUT');
    const own = resolveIncoming(table, req);
    assert.equal(own.kind === 'route' && own.match.route.permission, 'p:OPTIONS');
  });

  it('reads Express originalUrl, refuses bad paths, keeps reserved paths away', () => {
    const table = countingTable();
    const req = Object.assign(request('GET', '/x'), { originalUrl: '/api/x' });
    assert.equal(resolveIncoming(table, req).kind, 'route');
    assert.equal(resolveIncoming(table, request('GET', '/api/%2F')).kind, 'bad-path');
    assert.equal(resolveIncoming(table, request('GET', '/health')).kind, 'reserved');
  });

  it('lookupOf takes a table or anything holding one', () => {
    const table = countingTable();
    assert.equal(lookupOf(table), table);
    assert.equal(lookupOf({ routeTable: table }), table);
    assert.equal(lookupOf({ routeTable: undefined }), undefined);
  });
});
