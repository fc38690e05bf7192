/**
 * An in-process OTLP/gRPC receiver for tracing tests: serves
 * `opentelemetry.proto.collector.trace.v1.TraceService/Export` on a free loopback port (plaintext
 * HTTP/2) and decodes each ExportTraceServiceRequest with the same reader as the HTTP receiver.
 */
import { Server, ServerCredentials, type ServiceDefinition } from '@grpc/grpc-js';
import { type DecodedSpan, decodeTraces } from './otlp-receiver.js';

const EXPORT_PATH = '/opentelemetry.proto.collector.trace.v1.TraceService/Export';

/** A running gRPC receiver. */
export interface OtlpGrpcReceiver {
  /** The port on 127.0.0.1. */
  port: number;
  /** Every span received so far, in arrival order. */
  spans: DecodedSpan[];
  /** Export calls received. */
  exports: number;
  close(): Promise<void>;
}

/** Starts a receiver on a free loopback port. */
export async function startOtlpGrpcReceiver(): Promise<OtlpGrpcReceiver> {
  const server = new Server();
  const service: ServiceDefinition = {
    Export: {
      path: EXPORT_PATH,
      requestStream: false,
      responseStream: false,
      // Raw protobuf in, an empty ExportTraceServiceResponse (zero bytes) out.
      requestSerialize: (b: Buffer) => b,
      requestDeserialize: (b: Buffer) => b,
      responseSerialize: () => Buffer.alloc(0),
      responseDeserialize: (b: Buffer) => b,
    },
  };
  const receiver: OtlpGrpcReceiver = {
    port: 0,
    spans: [],
    exports: 0,
    close: () =>
      new Promise<void>((resolve) => {
        server.tryShutdown(() => resolve());
        // A client mid-call must not hold the test: force after a bound.
        setTimeout(() => server.forceShutdown(), 2000).unref();
      }),
  };
  server.addService(service, {
    Export: (call: { request: Buffer }, callback: (err: null, value: Buffer) => void) => {
      receiver.exports++;
      receiver.spans.push(...decodeTraces(call.request));
      callback(null, Buffer.alloc(0));
    },
  });
  receiver.port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (err, port) =>
      err === null ? resolve(port) : reject(err),
    ),
  );
  return receiver;
}
