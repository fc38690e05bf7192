/**
 * The drills by name and one-line description, for `--help` without loading the drills
 * themselves (they pull in the client SDK and undici).
 */

/** Every drill, in the order `drill all` runs them; each drill takes its description from here. */
export const DRILL_SUMMARIES: ReadonlyArray<{ name: string; description: string }> = [
  {
    name: 'crash',
    description:
      'kill -9 an instance under load: out of routing within the bound, no failed idempotent request after detection',
  },
  {
    name: 're-registration',
    description: 'an instance returns on a new port: routed there, the old address never used again',
  },
  {
    name: 'restart-gateway',
    description: 'restart a gateway: instances re-register within one heartbeat interval (Redis/etcd: nothing lost)',
  },
  {
    name: 'store-outage',
    description: 'stop the store under load: gateways serve last-known routes, report degraded, resync after',
  },
  {
    name: 'thundering-herd',
    description:
      'make the registry forget a herd of instances at once: all re-register, none lost, spread shows jitter',
  },
];

/** The description of a drill by name. */
export function drillDescription(name: string): string {
  const d = DRILL_SUMMARIES.find((x) => x.name === name);
  if (d === undefined) throw new Error(`no drill summary for ${name}`);
  return d.description;
}
