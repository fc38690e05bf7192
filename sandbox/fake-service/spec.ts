/**
 * What one fake service instance is: name, port, gateways, routes and misbehaviour. Given as
 * JSON in `GW_FAKE_SPEC` (how the supervisor starts it) or as flags (by hand:
 * `node --import tsx sandbox/fake-service/main.ts --service orders --gateway http://127.0.0.1:8080 --route 'GET /api/orders/**'`).
 */
import { parseArgs } from 'node:util';
import { FleetgateError } from '../../lib/errors.js';
import type { FleetRoute, LatencyRange } from '../fleet-file.js';

/** The full description of a fake service instance. */
export interface FakeServiceSpec {
  service: string;
  /** Stable id kept across restarts, so a restarted instance re-registers as itself. */
  instanceId: string;
  /** 0 picks a free port. */
  port: number;
  /** @default '127.0.0.1' */
  host: string;
  /** Gateways to register with, in order of preference; the next one is tried when one fails. */
  gateways: string[];
  routes: FleetRoute[];
  latency: LatencyRange;
  /** Share of requests answered 500 on purpose. */
  errorRate: number;
  /** Filler bytes added to every answer. */
  payloadBytes: number;
}

/** Reads the spec from `GW_FAKE_SPEC` or the command line. */
export function readFakeServiceSpec(argv: string[], env: NodeJS.ProcessEnv): FakeServiceSpec {
  const raw = env.GW_FAKE_SPEC;
  if (raw !== undefined && raw !== '') return validate(JSON.parse(raw) as Partial<FakeServiceSpec>);
  const { values } = parseArgs({
    args: argv,
    options: {
      service: { type: 'string' },
      'instance-id': { type: 'string' },
      port: { type: 'string', default: '0' },
      host: { type: 'string', default: '127.0.0.1' },
      gateway: { type: 'string', multiple: true },
      route: { type: 'string', multiple: true },
      latency: { type: 'string', default: '0' },
      'error-rate': { type: 'string', default: '0' },
      payload: { type: 'string', default: '0' },
    },
    strict: true,
  });
  const [lo, hi] = (values.latency ?? '0').replace(/ms$/, '').split('-').map(Number);
  return validate({
    service: values.service,
    instanceId: values['instance-id'] ?? `${values.service}-${process.pid}`,
    port: Number(values.port),
    host: values.host,
    gateways: (values.gateway ?? []).flatMap((g) => g.split(',')),
    routes: (values.route ?? []).map((r) => {
      const parts = r.trim().split(/\s+/);
      return parts.length === 1
        ? { method: '*', path: parts[0] ?? '/' }
        : { method: (parts[0] ?? '*').toUpperCase(), path: parts[1] ?? '/' };
    }),
    latency: { minMs: lo ?? 0, maxMs: hi ?? lo ?? 0 },
    errorRate: Number(values['error-rate']),
    payloadBytes: Number(values.payload),
  });
}

function validate(s: Partial<FakeServiceSpec>): FakeServiceSpec {
  const bad = (what: string): never => {
    throw new FleetgateError('ERR_FG_INVALID_CONFIG', `fake service: ${what}`);
  };
  if (typeof s.service !== 'string' || s.service === '') bad('--service is required');
  if (!Array.isArray(s.gateways) || s.gateways.length === 0) bad('at least one --gateway URL is required');
  if (!Number.isInteger(s.port) || (s.port as number) < 0 || (s.port as number) > 65535) bad('--port must be 0-65535');
  const errorRate = s.errorRate ?? 0;
  if (!(errorRate >= 0 && errorRate <= 1)) bad('--error-rate must be in [0, 1]');
  return {
    service: s.service as string,
    instanceId: s.instanceId ?? `${s.service}-${process.pid}`,
    port: s.port as number,
    host: s.host ?? '127.0.0.1',
    gateways: s.gateways as string[],
    routes: s.routes ?? [],
    latency: s.latency ?? { minMs: 0, maxMs: 0 },
    errorRate,
    payloadBytes: s.payloadBytes ?? 0,
  };
}
