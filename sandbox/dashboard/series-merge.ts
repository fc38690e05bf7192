/**
 * The per-service chart series of a sandbox fleet: each gateway keeps its own (lib/dashboard),
 * and the sandbox page shows them merged across its gateways.
 */
import type { ServiceSeries } from '../../lib/dashboard/page-model.js';

/**
 * Merges per-service series of several gateways: request rates add up, the error rate is
 * weighted by requests, and p50/p99 are the slowest gateway's.
 * @example mergeSeries([a.services, b.services])
 */
export function mergeSeries(
  perGateway: ReadonlyArray<ReadonlyArray<{ name: string; series?: ServiceSeries | undefined }>>,
): Record<string, ServiceSeries> {
  const out: Record<string, ServiceSeries> = {};
  for (const services of perGateway) {
    for (const { name, series } of services) {
      if (series === undefined) continue;
      const into = out[name];
      if (into === undefined) {
        out[name] = {
          rps: [...series.rps],
          errorRate: [...series.errorRate],
          p50: [...series.p50],
          p99: [...series.p99],
        };
        continue;
      }
      const n = Math.min(into.rps.length, series.rps.length);
      for (let k = 0; k < n; k++) {
        const a = into.rps[k]!;
        const b = series.rps[k]!;
        into.errorRate[k] = a + b === 0 ? 0 : (into.errorRate[k]! * a + series.errorRate[k]! * b) / (a + b);
        into.rps[k] = a + b;
        into.p50[k] = maxOf(into.p50[k], series.p50[k]);
        into.p99[k] = maxOf(into.p99[k], series.p99[k]);
      }
    }
  }
  return out;
}

function maxOf(a: number | null | undefined, b: number | null | undefined): number | null {
  if (a === null || a === undefined) return b ?? null;
  if (b === null || b === undefined) return a;
  return Math.max(a, b);
}
