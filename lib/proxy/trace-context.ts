/**
 * The trace context a proxied request carries upstream: the proxy span's, never the client's and
 * never two of them.
 */
import { type ProxySpan, upstreamTraceInjected } from '../telemetry/tracing.js';

/**
 * Replaces `traceparent`/`tracestate` in a flat `[name, value, …]` header list with the span's,
 * so the upstream's spans are its children. When the undici instrumentation writes them on each
 * attempt (as the child of its client span), the incoming ones are only removed, so the upstream
 * never gets two.
 * @example headers = withTraceContext(headers, span);
 */
export function withTraceContext(headers: string[], span: ProxySpan): string[] {
  const carrier: Record<string, string> = {};
  if (!upstreamTraceInjected()) span.inject(carrier);
  else carrier.traceparent = '';
  if (carrier.traceparent === undefined) return headers;
  const out: string[] = [];
  for (let i = 0; i < headers.length; i += 2) {
    const lower = headers[i]!.toLowerCase();
    if (lower !== 'traceparent' && lower !== 'tracestate') out.push(headers[i]!, headers[i + 1]!);
  }
  for (const [k, v] of Object.entries(carrier)) if (v !== '') out.push(k, v);
  return out;
}
