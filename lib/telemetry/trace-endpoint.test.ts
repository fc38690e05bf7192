/** TRACE_URL as the seed and operators write it: gRPC and HTTP forms, the protocol override, and refusals. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseTraceEndpoint } from './trace-endpoint.js';

describe('parseTraceEndpoint', () => {
  it('reads gRPC and HTTP endpoints from the scheme and port', () => {
    const cases: Array<[string, string, string]> = [
      ['tempo:4317', 'grpc', 'http://tempo:4317'],
      ['localhost:4317', 'grpc', 'http://localhost:4317'],
      ['127.0.0.1:55680', 'grpc', 'http://127.0.0.1:55680'],
      ['[::1]:4317', 'grpc', 'http://[::1]:4317'],
      ['grpc://tempo:4317', 'grpc', 'http://tempo:4317'],
      ['grpcs://tempo:443', 'grpc', 'https://tempo:443'],
      ['http://otel:4317', 'grpc', 'http://otel:4317'],
      ['http://otel:4318', 'http/protobuf', 'http://otel:4318/v1/traces'],
      ['https://otel.example/', 'http/protobuf', 'https://otel.example/v1/traces'],
      ['http://otel:4318/custom/traces', 'http/protobuf', 'http://otel:4318/custom/traces'],
      ['otel:4318', 'http/protobuf', 'http://otel:4318/v1/traces'],
    ];
    for (const [raw, protocol, url] of cases) assert.deepEqual(parseTraceEndpoint(raw, {}), { protocol, url }, raw);
  });

  it('OTEL_EXPORTER_OTLP_(TRACES_)PROTOCOL overrides the guess', () => {
    assert.deepEqual(parseTraceEndpoint('http://otel:4318', { OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' }), {
      protocol: 'grpc',
      url: 'http://otel:4318',
    });
    assert.deepEqual(parseTraceEndpoint('tempo:4317', { OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json' }), {
      protocol: 'http/json',
      url: 'http://tempo:4317/v1/traces',
    });
    assert.equal(
      parseTraceEndpoint('otel:4318', {
        OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc',
        OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'http/protobuf',
      }).protocol,
      'http/protobuf',
    );
  });

  it('refuses what is no endpoint with ERR_FG_INVALID_CONFIG naming the variable', () => {
    for (const raw of ['', 'tempo', 'ftp://x:21', 'http://', 'tempo:99999x', 'http://u:p@otel:4318', 'file:///tmp/x']) {
      assert.throws(
        () => parseTraceEndpoint(raw, {}),
        (err: Error & { code?: string; message: string }) => {
          assert.equal(err.code, 'ERR_FG_INVALID_CONFIG', raw);
          assert.match(err.message, /TRACE_URL/);
          return true;
        },
      );
    }
    assert.throws(() => parseTraceEndpoint('tempo:4317', { OTEL_EXPORTER_OTLP_PROTOCOL: 'carrier-pigeon' }), {
      code: 'ERR_FG_INVALID_CONFIG',
      message: /OTEL_EXPORTER_OTLP_PROTOCOL/,
    });
  });
});
