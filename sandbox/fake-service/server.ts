/**
 * The HTTP side of a fake service: echoes every request as JSON (instance id, port, path) after
 * the configured latency, fails a configured share on purpose, answers `GET /health`, and takes
 * orders to misbehave on `/_fake/*` so drills and the dashboard can break it on demand.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { FakeServiceSpec } from './spec.js';

/** Counters and switches of one fake service, exposed on `GET /_fake/stats`. */
export interface FakeServiceState {
  startedAt: number;
  /** Requests answered on service routes (not /health, not /_fake). */
  requests: number;
  /** Of those, answered 500 on purpose. */
  injectedErrors: number;
  healthChecks: number;
  /** While true every request except /_fake/* is left hanging. */
  hung: boolean;
  /** While true /health answers 503. */
  healthFailing: boolean;
  /** The gateway the instance is registered with, set by the registration side. */
  gateway: string | undefined;
  registrations: number;
  /** The port it listens on, once listening. */
  port: number;
}

/** Side effects the server cannot do itself (they end the process). */
export interface FakeServerHooks {
  /** `POST /_fake/crash`: `exit` = process.exit(1), `kill` = SIGKILL to itself. */
  crash(mode: 'exit' | 'kill'): void;
}

/**
 * Builds the server (not yet listening).
 * @example const server = createFakeServer(spec, state, { crash: () => process.exit(1) });
 */
export function createFakeServer(spec: FakeServiceSpec, state: FakeServiceState, hooks: FakeServerHooks): Server {
  const filler = 'x'.repeat(spec.payloadBytes);
  const hanging = new Set<ServerResponse>();

  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://fake');
    if (url.pathname.startsWith('/_fake/')) return control(req, res, url);
    if (state.hung) {
      // A stuck process: the request is accepted and never answered.
      hanging.add(res);
      res.once('close', () => hanging.delete(res));
      return;
    }
    if (url.pathname === '/health') {
      state.healthChecks++;
      return json(res, state.healthFailing ? 503 : 200, {
        status: state.healthFailing ? 'DOWN' : 'UP',
        service: spec.service,
        instance_id: spec.instanceId,
      });
    }
    const latency = spec.latency.minMs + Math.random() * (spec.latency.maxMs - spec.latency.minMs);
    // The body is drained before answering so keep-alive connections stay usable.
    req.resume();
    const answer = () => {
      state.requests++;
      if (spec.errorRate > 0 && Math.random() < spec.errorRate) {
        state.injectedErrors++;
        res.setHeader('x-fake-error', '1');
        return json(res, 500, { error: 'injected error', service: spec.service, instance_id: spec.instanceId });
      }
      json(res, 200, {
        service: spec.service,
        instance_id: spec.instanceId,
        port: state.port,
        pid: process.pid,
        method: req.method,
        path: url.pathname,
        ...(filler === '' ? {} : { payload: filler }),
      });
    };
    if (latency >= 1) setTimeout(answer, latency);
    else answer();
  });

  function control(req: IncomingMessage, res: ServerResponse, url: URL) {
    const action = url.pathname.slice('/_fake/'.length);
    if (req.method === 'GET' && action === 'stats') {
      return json(res, 200, { service: spec.service, instance_id: spec.instanceId, pid: process.pid, ...state });
    }
    if (req.method !== 'POST') return json(res, 405, { error: 'use POST' });
    switch (action) {
      case 'hang':
        state.hung = true;
        return json(res, 200, { hung: true });
      case 'unhang':
        state.hung = false;
        for (const r of hanging) r.destroy();
        return json(res, 200, { hung: false });
      case 'fail-health':
        state.healthFailing = true;
        return json(res, 200, { healthFailing: true });
      case 'heal':
        state.healthFailing = false;
        state.hung = false;
        return json(res, 200, { healthFailing: false, hung: false });
      case 'crash': {
        const mode = url.searchParams.get('mode') === 'kill' ? 'kill' : 'exit';
        res.once('finish', () => setImmediate(() => hooks.crash(mode)));
        return json(res, 202, { crashing: mode });
      }
      default:
        return json(res, 404, { error: `unknown control action ${action}` });
    }
  }

  server.on('close', () => {
    for (const r of hanging) r.destroy();
  });
  return server;
}

function json(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}
