import assert from 'node:assert/strict';
import http from 'node:http';
import { describe, it } from 'node:test';
import { FleetgateError } from '../errors.js';
import { listen, send } from '../test-support/http-test-kit.js';
import { packageVersion } from '../version.js';
import {
  BAD_PATH_CODE,
  badPathError,
  classifyUpstreamError,
  isConnectFailure,
  noHealthyInstanceError,
  noRouteError,
  sendProxyError,
  upstreamError,
} from './upstream-error.js';

const coded = (code: string) => Object.assign(new Error(code), { code });

describe('upstream-error', () => {
  it('classifies undici and socket errors', () => {
    assert.equal(classifyUpstreamError(coded('ECONNREFUSED')), 'connect');
    assert.equal(classifyUpstreamError(coded('EHOSTUNREACH')), 'connect');
    assert.equal(classifyUpstreamError(coded('UND_ERR_CONNECT_TIMEOUT')), 'connect-timeout');
    assert.equal(classifyUpstreamError(coded('UND_ERR_HEADERS_TIMEOUT')), 'timeout');
    assert.equal(classifyUpstreamError(coded('UND_ERR_SOCKET')), 'reset');
    assert.equal(classifyUpstreamError(coded('ECONNRESET')), 'reset');
    assert.equal(classifyUpstreamError(coded('UND_ERR_ABORTED')), 'aborted');
    assert.equal(classifyUpstreamError(coded('UND_ERR_REQ_CONTENT_LENGTH_MISMATCH')), 'client');
    assert.equal(classifyUpstreamError(new Error('no code')), 'reset');
    assert.equal(classifyUpstreamError(undefined), 'reset');
    assert.ok(isConnectFailure('connect') && isConnectFailure('connect-timeout'));
    assert.ok(!isConnectFailure('reset') && !isConnectFailure('timeout'));
  });

  it('maps each failure to one code and status', () => {
    const cases: [Parameters<typeof upstreamError>[1], string, number][] = [
      ['connect', 'ERR_FG_UPSTREAM_CONNECT', 502],
      ['reset', 'ERR_FG_UPSTREAM_CONNECT', 502],
      ['connect-timeout', 'ERR_FG_UPSTREAM_TIMEOUT', 504],
      ['timeout', 'ERR_FG_UPSTREAM_TIMEOUT', 504],
      ['client', 'ERR_FG_INVALID_BODY', 400],
    ];
    for (const [kind, code, status] of cases) {
      const err = upstreamError(coded('X'), kind, 'svc/a1 (http://127.0.0.1:1/internal-admin)');
      assert.equal(err.code, code, kind);
      assert.equal(err.status, status, kind);
      const body = JSON.stringify(err.toJSON());
      assert.ok(!body.includes('a1') && !body.includes('127.0.0.1'), `${kind}: no instance id or URL in ${body}`);
    }
    assert.equal(noRouteError('GET', '/x').status, 404);
    assert.equal(noRouteError('GET', '/x').code, 'ERR_FG_NO_ROUTE');
    const none = noHealthyInstanceError('svc');
    assert.equal(none.status, 503);
    assert.equal(none.details, undefined, 'instance ids stay out of client bodies (explain has them)');
    const bad = badPathError('encoded slash');
    assert.equal(bad.status, 400);
    assert.equal(bad.code, BAD_PATH_CODE);
  });

  it('writes a JSON error with X-Gateway and the request id, keeping preset headers', async () => {
    const server = await listen((_req, res) => {
      res.setHeader('x-powered-by', 'test');
      sendProxyError(res, new FleetgateError('ERR_FG_NO_ROUTE', 'no route'), 'req-1');
    });
    try {
      const res = await send(server.url);
      assert.equal(res.status, 404);
      assert.equal(res.headers['x-gateway'], 'fleetgate');
      assert.equal(res.headers['x-gateway-version'], packageVersion());
      assert.equal(res.headers['x-request-id'], 'req-1');
      assert.equal(res.headers['x-powered-by'], 'test');
      assert.match(String(res.headers['content-type']), /^application\/json/);
      assert.deepEqual(JSON.parse(res.body), {
        error: { code: 'ERR_FG_NO_ROUTE', message: 'no route', request_id: 'req-1' },
      });
    } finally {
      await server.close();
    }
  });

  it('cuts the connection when the response already started', async () => {
    const server = await listen((_req, res) => {
      res.writeHead(200, { 'content-length': '100' });
      res.write('partial');
      sendProxyError(res, new FleetgateError('ERR_FG_UPSTREAM_CONNECT', 'gone'));
    });
    try {
      await assert.rejects(
        new Promise((resolve, reject) => {
          http
            .get(server.url, (res) => {
              res.resume();
              res.on('end', resolve);
              res.on('error', reject);
              res.on('aborted', () => reject(new Error('aborted')));
            })
            .on('error', reject);
        }),
      );
    } finally {
      await server.close();
    }
  });
});
