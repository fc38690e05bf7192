/**
 * The drills by name and one-line description, for `--help` without loading the drills
 * themselves (they pull in the client SDK and undici). The twelve of issue #14 come first, in
 * its order (`#` is their number there), then the sandbox's older drills.
 */

/** One drill's summary. */
export interface DrillSummary {
  name: string;
  /** Its number in issue #14's list of twelve, when it is one of them. */
  number?: number;
  description: string;
}

/** Every drill, in the order `drill all` runs them; each drill takes its description from here. */
export const DRILL_SUMMARIES: ReadonlyArray<DrillSummary> = [
  {
    name: 'gateway-sigterm',
    number: 1,
    description: 'SIGTERM a gateway under load: zero failed requests for a client that retries connection-refused only',
  },
  {
    name: 'crash',
    number: 2,
    description:
      'kill -9 an instance under load: out of routing within 1 s (passive detection), no failed idempotent request after detection',
  },
  {
    name: 'store-outage',
    number: 3,
    description:
      'stop the store for longer than the TTL under load: last-known routes serve, no false eviction, self-preservation on then off, nothing lost',
  },
  {
    name: 'cluster-failover',
    number: 4,
    description:
      'a Redis Cluster primary stops answering under load: a replica takes over, registrations intact, watch resumes, propagation ≤ 1 s again',
  },
  {
    name: 'thundering-herd',
    number: 5,
    description:
      'make the registry forget a herd of instances at once: all re-register, none lost, spread shows jitter',
  },
  {
    name: 'store-partition',
    number: 6,
    description:
      'the store stops answering (hung, not killed): degraded and disconnected within 1 s, registrations 503 within 1 s, routes serve, healthy within 1 s after',
  },
  {
    name: 'slow-upstream',
    number: 7,
    description: 'an upstream answers in 10 s: 504 at the route timeout, no queue build-up for other routes',
  },
  {
    name: 'half-open-upstream',
    number: 8,
    description: 'an upstream host goes silent without FIN: detected and replaced without a failed idempotent request',
  },
  {
    name: 'retry-body',
    number: 9,
    description:
      'a POST that reached the upstream is never sent twice; a POST refused before any byte was sent is retried once',
  },
  {
    name: 'websocket-restart',
    number: 10,
    description:
      'restart a WebSocket upstream, then the gateway: clients reconnect and re-pin, no message reaches two instances',
  },
  {
    name: 'shared-rate-limit',
    number: 11,
    description: 'three gateways share one Redis rate-limit key under load: admitted ≤ limit + 1 % over the window',
  },
  {
    name: 'flapping-health',
    number: 12,
    description:
      'an instance flaps up 2 s / down 2 s: routing follows within the ladder bounds, no storm of transitions or log lines',
  },
  {
    name: 're-registration',
    description: 'an instance returns on a new port: routed there, the old address never used again',
  },
  {
    name: 'restart-gateway',
    description: 'restart a gateway: instances re-register within one heartbeat interval (Redis/etcd: nothing lost)',
  },
];

/** The description of a drill by name. */
export function drillDescription(name: string): string {
  const d = DRILL_SUMMARIES.find((x) => x.name === name);
  if (d === undefined) throw new Error(`no drill summary for ${name}`);
  return d.description;
}
