/**
 * `TRACE_URL` as operators write it, turned into an OTLP endpoint and protocol (README "Health, metrics, rate limits, tracing"):
 * - `host:4317`, `grpc://host:4317`, or any `http(s)://host:4317`: OTLP/gRPC;
 * - `http(s)://host:4318` (or any other http(s) URL): OTLP/HTTP (protobuf), `/v1/traces` appended
 *   when no path is given;
 * - `host:4318` without a scheme: OTLP/HTTP at `http://host:4318/v1/traces`;
 * - `OTEL_EXPORTER_OTLP_TRACES_PROTOCOL` or `OTEL_EXPORTER_OTLP_PROTOCOL` (`grpc`,
 *   `http/protobuf`, `http/json`) overrides what the scheme and port suggest.
 * Pure: no OpenTelemetry module is loaded here, so the config layer can validate with it.
 */
import { FleetgateError } from '../errors.js';

/** OTLP transport and encoding. */
export type TraceProtocol = 'grpc' | 'http/protobuf' | 'http/json';

/** The protocols `OTEL_EXPORTER_OTLP_PROTOCOL` may name. */
export const TRACE_PROTOCOLS: readonly TraceProtocol[] = Object.freeze(['grpc', 'http/protobuf', 'http/json']);

/** Where and how spans are exported. */
export interface TraceEndpoint {
  protocol: TraceProtocol;
  /** gRPC: `http(s)://host:port` (TLS when `https:`/`grpcs:`); HTTP: the full traces URL. */
  url: string;
}

/** The OTLP/gRPC port by convention. */
const GRPC_PORT = '4317';
/** A scheme-less `host:port` (host name, IPv4, or bracketed IPv6). */
const HOST_PORT = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9][A-Za-z0-9.-]*):(\d{1,5})$/;

function invalid(raw: string, expected: string): FleetgateError {
  return new FleetgateError(
    'ERR_FG_INVALID_CONFIG',
    `TRACE_URL=${JSON.stringify(raw)} is invalid: expected ${expected}`,
    {
      details: { variable: 'TRACE_URL', value: raw, expected },
    },
  );
}

/**
 * Parses `TRACE_URL` (and the protocol variables of `env`).
 * @example parseTraceEndpoint('tempo:4317') // { protocol: 'grpc', url: 'http://tempo:4317' }
 * @example parseTraceEndpoint('http://otel:4318') // { protocol: 'http/protobuf', url: 'http://otel:4318/v1/traces' }
 * @throws FleetgateError `ERR_FG_INVALID_CONFIG` naming the variable.
 */
export function parseTraceEndpoint(
  raw: string,
  env: Readonly<Record<string, string | undefined>> = process.env,
): TraceEndpoint {
  const forced = env.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL || env.OTEL_EXPORTER_OTLP_PROTOCOL || undefined;
  if (forced !== undefined && !(TRACE_PROTOCOLS as readonly string[]).includes(forced)) {
    const variable = env.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL
      ? 'OTEL_EXPORTER_OTLP_TRACES_PROTOCOL'
      : 'OTEL_EXPORTER_OTLP_PROTOCOL';
    throw new FleetgateError(
      'ERR_FG_INVALID_CONFIG',
      `${variable}=${JSON.stringify(forced)} is invalid: expected one of ${TRACE_PROTOCOLS.join(', ')}`,
      { details: { variable, value: forced } },
    );
  }
  const expected = 'host:4317, grpc://host:4317 (OTLP/gRPC) or http(s)://host:4318 (OTLP/HTTP)';
  const trimmed = raw.trim();
  let u: URL;
  const hostPort = HOST_PORT.exec(trimmed);
  if (hostPort !== null) {
    u = new URL(`http://${trimmed}`);
  } else {
    try {
      u = new URL(trimmed);
    } catch {
      throw invalid(raw, expected);
    }
  }
  const scheme = u.protocol;
  if (!['http:', 'https:', 'grpc:', 'grpcs:'].includes(scheme) || u.hostname === '') throw invalid(raw, expected);
  if (u.username !== '' || u.password !== '') throw invalid(raw, `${expected}, without credentials (use headers)`);
  const implied: TraceProtocol =
    scheme === 'grpc:' || scheme === 'grpcs:' || u.port === GRPC_PORT || (hostPort !== null && hostPort[2] !== '4318')
      ? 'grpc'
      : 'http/protobuf';
  const protocol = forced === undefined ? implied : (forced as TraceProtocol);
  const secure = scheme === 'https:' || scheme === 'grpcs:';
  const base = `${secure ? 'https' : 'http'}://${u.host}`;
  if (protocol === 'grpc') return { protocol, url: base };
  if (scheme === 'grpc:' || scheme === 'grpcs:') return { protocol, url: `${base}/v1/traces` };
  const path = u.pathname === '' || u.pathname === '/' ? '/v1/traces' : u.pathname;
  return { protocol, url: `${base}${path}${u.search}` };
}
