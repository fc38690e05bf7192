/**
 * docs/grafana-dashboard.json cannot drift from the code: every metric its queries name exists in
 * createMetrics()'s registry (histogram queries by their _bucket/_sum/_count series), every panel
 * has a query on the dashboard's Prometheus data source, and the issue's views are all there.
 * docs/metrics.md lists every metric the registry holds.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { createMetrics } from './metrics.js';

interface Target {
  expr: string;
}
interface Panel {
  type: string;
  title: string;
  datasource?: { type: string; uid: string };
  targets?: Target[];
  gridPos: { x: number; y: number; w: number; h: number };
}

const dashboard = JSON.parse(readFileSync(new URL('../../docs/grafana-dashboard.json', import.meta.url), 'utf8')) as {
  uid: string;
  title: string;
  panels: Panel[];
  templating: { list: { name: string; query: unknown }[] };
};
const docs = readFileSync(new URL('../../docs/metrics.md', import.meta.url), 'utf8');

/** Name → type of every metric createMetrics() registers. */
function registered(): Map<string, string> {
  const metrics = createMetrics();
  return new Map(
    metrics.promRegistry.getMetricsAsArray().map((m) => [m.name, (m as unknown as { type: string }).type]),
  );
}

/** The metric a series name belongs to: `x_bucket` → `x` when `x` is a histogram. */
function metricOf(series: string, known: Map<string, string>): string {
  for (const suffix of ['_bucket', '_sum', '_count']) {
    const base = series.slice(0, -suffix.length);
    if (series.endsWith(suffix) && known.get(base) === 'histogram') return base;
  }
  return series;
}

describe('docs/grafana-dashboard.json', () => {
  const known = registered();
  const queryPanels = dashboard.panels.filter((p) => p.type !== 'row');
  const exprs = queryPanels.flatMap((p) => (p.targets ?? []).map((t) => t.expr));

  it('queries only metrics that createMetrics() registers', () => {
    const used = new Set<string>();
    for (const expr of exprs) for (const m of expr.match(/\bfleetgate_[a-z_]+/g) ?? []) used.add(metricOf(m, known));
    const missing = [...used].filter((m) => !known.has(m));
    assert.deepEqual(missing, [], `the dashboard queries metrics that do not exist: ${missing.join(', ')}`);
    for (const m of used) {
      // A histogram is queried through its series, never by its bare name.
      if (known.get(m) === 'histogram')
        assert.ok(
          exprs.every((e) => !new RegExp(`\\b${m}\\b(?!_)`).test(e)),
          m,
        );
    }
    assert.ok(used.size >= 20, `uses ${used.size} metrics`);
  });

  it('shows what issue 18 asks for, each panel on the Prometheus data source', () => {
    for (const p of queryPanels) {
      assert.equal(p.datasource?.type, 'prometheus', p.title);
      assert.ok((p.targets ?? []).length > 0, `${p.title} has a query`);
      assert.ok(p.gridPos.x + p.gridPos.w <= 24, `${p.title} fits the 24-column grid`);
    }
    const all = exprs.join('\n');
    for (const needed of [
      'rate(fleetgate_requests_total',
      'status=~"5.."',
      'histogram_quantile(0.5, sum by (service, le) (rate(fleetgate_upstream_duration_seconds_bucket',
      'histogram_quantile(0.99, sum by (service, route, le) (rate(fleetgate_route_upstream_duration_seconds_bucket',
      'fleetgate_ws_connections',
      'fleetgate_ws_messages_total',
      'fleetgate_breaker_state',
      'fleetgate_retries_total',
      'fleetgate_auth_rejections_total',
      'fleetgate_loops_detected_total',
      'fleetgate_registry_store_live',
      'fleetgate_registry_store_last_success_age_seconds',
      'fleetgate_instances',
    ]) {
      assert.ok(all.includes(needed), `a query uses ${needed}`);
    }
    assert.deepEqual(
      dashboard.templating.list.map((v) => v.name),
      ['datasource', 'service'],
    );
  });

  it('docs/metrics.md lists every registered metric', () => {
    const undocumented = [...known.keys()].filter((m) => !docs.includes(`\`${m}\``));
    assert.deepEqual(undocumented, []);
  });
});
