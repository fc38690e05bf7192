/**
 * Runs drills one after another and reports: a block per drill (its progress lines and checks,
 * then PASS/FAIL/SKIP with the time), and a summary table when several ran.
 */

import type { SandboxClient } from '../cli/control-client.js';
import { colour, formatDuration, formatTable } from '../cli/format.js';
import { loadFleetFile } from '../fleet-file.js';
import { clusterFailoverDrill } from './cluster-failover.js';
import { crashDrill } from './crash.js';
import { appliesTo, type Drill, type DrillResult } from './drill.js';
import { DRILL_SUMMARIES } from './drill-names.js';
import { flappingHealthDrill } from './flapping-health.js';
import { gatewaySigtermDrill } from './gateway-sigterm.js';
import { halfOpenUpstreamDrill } from './half-open-upstream.js';
import { reRegistrationDrill } from './re-registration.js';
import { restartGatewayDrill } from './restart-gateway.js';
import { retryBodyDrill } from './retry-body.js';
import { applyOverrides, loadScenario } from './scenario.js';
import { sharedRateLimitDrill } from './shared-rate-limit.js';
import { slowUpstreamDrill } from './slow-upstream.js';
import { storeOutageDrill } from './store-outage.js';
import { storePartitionDrill } from './store-partition.js';
import { thunderingHerdDrill } from './thundering-herd.js';
import { websocketRestartDrill } from './websocket-restart.js';

const ALL: readonly Drill[] = [
  crashDrill,
  reRegistrationDrill,
  restartGatewayDrill,
  slowUpstreamDrill,
  retryBodyDrill,
  halfOpenUpstreamDrill,
  flappingHealthDrill,
  gatewaySigtermDrill,
  websocketRestartDrill,
  sharedRateLimitDrill,
  storeOutageDrill,
  thunderingHerdDrill,
  storePartitionDrill,
  clusterFailoverDrill,
];

/** Every drill, in the order `drill all` runs them: the order of {@link DRILL_SUMMARIES}. */
export const DRILLS: readonly Drill[] = DRILL_SUMMARIES.flatMap((s) => ALL.filter((d) => d.name === s.name));

/** Options for {@link runDrills}. */
export interface RunDrillsOptions {
  client: SandboxClient;
  scenariosDir: string;
  overrides: readonly string[];
  print: (line: string) => void;
}

/** Runs the named drills and resolves their results. */
export async function runDrills(drills: readonly Drill[], o: RunDrillsOptions): Promise<DrillResult[]> {
  const fleet = loadFleetFile(o.client.state.fleetFile);
  const results: DrillResult[] = [];
  for (const drill of drills) {
    o.print(`▶ ${drill.name}: ${drill.description}`);
    const t0 = Date.now();
    const params = applyOverrides(loadScenario(o.scenariosDir, drill.name), drill.name, o.overrides);
    let result: DrillResult;
    if (!appliesTo(drill, o.client.state.backend)) {
      result = {
        name: drill.name,
        verdict: 'SKIP',
        ms: 0,
        checks: [],
        reason: `applies to ${drill.backends?.join(', ')}, not ${o.client.state.backend}`,
      };
      o.print(`  - ${result.reason}`);
      o.print(`${verdictText(result.verdict)} ${drill.name}`);
      o.print('');
      results.push(result);
      continue;
    }
    await o.client.call('event', { target: `drill ${drill.name}`, message: 'started', level: 'info' }).catch(() => {});
    try {
      const out = await drill.run({
        client: o.client,
        state: o.client.state,
        fleet,
        params,
        log: (line) => o.print(`  · ${line}`),
      });
      if ('skip' in out) {
        result = { name: drill.name, verdict: 'SKIP', ms: Date.now() - t0, checks: [], reason: out.skip };
      } else {
        const ok = out.checks.length > 0 && out.checks.every((c) => c.ok);
        result = { name: drill.name, verdict: ok ? 'PASS' : 'FAIL', ms: Date.now() - t0, checks: out.checks };
      }
    } catch (err) {
      result = {
        name: drill.name,
        verdict: 'FAIL',
        ms: Date.now() - t0,
        checks: [],
        reason: err instanceof Error ? err.message : String(err),
      };
    }
    for (const c of result.checks)
      o.print(`  ${c.ok ? colour('green', '✓') : colour('red', '✗')} ${c.name}: ${c.detail}`);
    if (result.reason !== undefined)
      o.print(`  ${result.verdict === 'SKIP' ? '-' : colour('red', '✗')} ${result.reason}`);
    o.print(`${verdictText(result.verdict)} ${drill.name} (${formatDuration(result.ms)})`);
    o.print('');
    await o.client
      .call('event', {
        target: `drill ${drill.name}`,
        message: `${result.verdict}${result.reason ? `: ${result.reason}` : ''} (${formatDuration(result.ms)})`,
        level: result.verdict === 'PASS' ? 'good' : result.verdict === 'SKIP' ? 'info' : 'bad',
      })
      .catch(() => {});
    results.push(result);
  }
  return results;
}

/**
 * The table `drill all` ends with: one row per invariant with its measured value (a SKIP or a
 * drill that could not run gets one row with the reason).
 */
export function summaryTable(results: readonly DrillResult[]): string {
  const rows: string[][] = [];
  for (const r of results) {
    const n = DRILL_SUMMARIES.find((d) => d.name === r.name)?.number;
    const head = [n === undefined ? '-' : String(n), r.name, verdictText(r.verdict), formatDuration(r.ms)];
    const lines = r.checks.map((c) => [c.ok ? 'ok' : 'FAIL', c.name, c.detail]);
    if (r.reason !== undefined)
      lines.push([r.verdict === 'SKIP' ? '-' : 'FAIL', r.verdict === 'SKIP' ? 'skipped' : 'error', r.reason]);
    lines.forEach((l, i) => {
      rows.push([...(i === 0 ? head : ['', '', '', '']), ...l]);
    });
  }
  return formatTable(['#', 'DRILL', 'RESULT', 'TIME', '', 'INVARIANT', 'MEASURED'], rows);
}

function verdictText(v: DrillResult['verdict']): string {
  return v === 'PASS' ? colour('green', 'PASS') : v === 'FAIL' ? colour('red', 'FAIL') : colour('yellow', 'SKIP');
}
