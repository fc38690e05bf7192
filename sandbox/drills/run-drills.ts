/**
 * Runs drills one after another and reports: a block per drill (its progress lines and checks,
 * then PASS/FAIL/SKIP with the time), and a summary table when several ran.
 */

import type { SandboxClient } from '../cli/control-client.js';
import { colour, formatDuration, formatTable } from '../cli/format.js';
import { loadFleetFile } from '../fleet-file.js';
import { crashDrill } from './crash.js';
import type { Drill, DrillResult } from './drill.js';
import { reRegistrationDrill } from './re-registration.js';
import { restartGatewayDrill } from './restart-gateway.js';
import { applyOverrides, loadScenario } from './scenario.js';
import { storeOutageDrill } from './store-outage.js';
import { thunderingHerdDrill } from './thundering-herd.js';

/** Every drill, in the order `drill all` runs them (the heaviest last). */
export const DRILLS: readonly Drill[] = [
  crashDrill,
  reRegistrationDrill,
  restartGatewayDrill,
  storeOutageDrill,
  thunderingHerdDrill,
];

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

/** The table `drill all` ends with. */
export function summaryTable(results: readonly DrillResult[]): string {
  return formatTable(
    ['DRILL', 'RESULT', 'TIME', 'NOTE'],
    results.map((r) => [
      r.name,
      verdictText(r.verdict),
      formatDuration(r.ms),
      r.reason ??
        r.checks
          .filter((c) => !c.ok)
          .map((c) => c.name)
          .join('; '),
    ]),
  );
}

function verdictText(v: DrillResult['verdict']): string {
  return v === 'PASS' ? colour('green', 'PASS') : v === 'FAIL' ? colour('red', 'FAIL') : colour('yellow', 'SKIP');
}
