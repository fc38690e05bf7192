/**
 * `gw-sandbox drill <name|all>`: run failure drills against the running fleet; exit status 1
 * when any FAILs.
 */
import { resolve } from 'node:path';
import { Command } from 'commander';
import { FleetgateError } from '../../lib/errors.js';
import { DRILL_SUMMARIES } from '../drills/drill-names.js';
import { SCENARIOS_DIR } from '../paths.js';
import { resolveStatePath } from './common.js';
import { connectSandbox } from './control-client.js';

/** The `drill` command. */
export function drillCommand(): Command {
  return new Command('drill')
    .description('run a failure drill against the running fleet, or all of them; prints PASS/FAIL/SKIP with timings')
    .argument('<name>', `one of: ${DRILL_SUMMARIES.map((d) => d.name).join(', ')}, or all`)
    .option('--scenarios <dir>', 'directory of <drill>.yaml parameter files (default: the packaged fixtures/scenarios)')
    .option(
      '--param <drill.key=value>',
      'override a scenario parameter, e.g. thundering-herd.size=50 (repeatable)',
      (v: string, acc: string[]) => [...acc, v],
      [] as string[],
    )
    .option('--json', 'print the results as JSON at the end', false)
    .addHelpText(
      'after',
      `\nDrills:\n${DRILL_SUMMARIES.map((d) => `  ${d.name.padEnd(16)} ${d.description}`).join('\n')}`,
    )
    .action(async (name: string, opts: { scenarios?: string; param: string[]; json: boolean }, cmd: Command) => {
      const { DRILLS, runDrills, summaryTable } = await import('../drills/run-drills.js');
      const drills = name === 'all' ? DRILLS : DRILLS.filter((d) => d.name === name);
      if (drills.length === 0) {
        throw new FleetgateError(
          'ERR_FG_NOT_FOUND',
          `unknown drill ${name}; choose one of ${DRILLS.map((d) => d.name).join(', ')}, all`,
        );
      }
      const client = connectSandbox(resolveStatePath(cmd));
      const results = await runDrills(drills, {
        client,
        scenariosDir: opts.scenarios === undefined ? SCENARIOS_DIR : resolve(opts.scenarios),
        overrides: opts.param,
        print: (line) => console.log(line),
      });
      if (drills.length > 1) console.log(summaryTable(results));
      if (opts.json) console.log(JSON.stringify(results, null, 2));
      if (results.some((r) => r.verdict === 'FAIL')) process.exitCode = 1;
    });
}
