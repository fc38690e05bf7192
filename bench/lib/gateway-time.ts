/**
 * The proxy's own share of a request's latency, measured inside the proxy process from Node's
 * and undici's diagnostics channels: (request parsed → request headers written upstream) +
 * (upstream response headers parsed → client response finished). What is left of the
 * end-to-end latency is the upstream, the two extra loopback hops and the machine.
 * Works for any proxy built on node:http + undici in one process (fleetgate in both modes).
 */
import diagnostics from 'node:diagnostics_channel';

interface Entry {
  t0: number;
  t1: number;
  t2: number;
}

/** Percentiles of the in-proxy time, ms. */
export interface GatewayTime {
  count: number;
  p50: number;
  p99: number;
  p999: number;
}

/** Starts recording; the returned function stops and reports. */
export function recordGatewayTime(): () => GatewayTime {
  const byResponse = new WeakMap<object, Entry>();
  const byRequest = new WeakMap<object, Entry>();
  const times: number[] = [];
  let current: Entry | undefined;
  const handlers: [string, (msg: unknown) => void][] = [
    [
      'http.server.request.start',
      (msg) => {
        current = { t0: performance.now(), t1: 0, t2: 0 };
        byResponse.set((msg as { response: object }).response, current);
      },
    ],
    [
      // Synchronous with the 'request' event for a bodiless request: this dispatch is that request's.
      'undici:request:create',
      (msg) => {
        if (current !== undefined) byRequest.set((msg as { request: object }).request, current);
        current = undefined;
      },
    ],
    [
      'undici:client:sendHeaders',
      (msg) => {
        const e = byRequest.get((msg as { request: object }).request);
        if (e !== undefined) e.t1 = performance.now();
      },
    ],
    [
      'undici:request:headers',
      (msg) => {
        const e = byRequest.get((msg as { request: object }).request);
        if (e !== undefined) e.t2 = performance.now();
      },
    ],
    [
      'http.server.response.finish',
      (msg) => {
        const e = byResponse.get((msg as { response: object }).response);
        if (e !== undefined && e.t1 > 0 && e.t2 > 0) times.push(e.t1 - e.t0 + (performance.now() - e.t2));
      },
    ],
  ];
  for (const [name, fn] of handlers) diagnostics.subscribe(name, fn);
  return () => {
    for (const [name, fn] of handlers) diagnostics.unsubscribe(name, fn);
    times.sort((a, b) => a - b);
    const at = (q: number) =>
      times.length === 0 ? Number.NaN : times[Math.min(times.length - 1, Math.floor(q * times.length))]!;
    return { count: times.length, p50: at(0.5), p99: at(0.99), p999: at(0.999) };
  };
}
