/**
 * `gw-sandbox drill <name|all>`: run failure drills against the running fleet; exit status 1
 * when any FAILs. `all` runs every drill that applies to the fleet's backend; a comma-separated
 * list runs those. Several drills end in one table, one row per invariant with its measured value.
 */
import { resolve } from 'node:path';
import { Command } from 'commander';
import { FleetgateError } from '../../lib/errors.js';
import { DRILL_SUMMARIES } from '../drills/drill-names.js';
import { SCENARIOS_DIR } from '../paths.js';
import { SANDBOX_BACKENDS } from '../state-file.js';
import { resolveStatePath } from './common.js';
import { connectSandbox } from './control-client.js';

/** The `drill` command. */
export function drillCommand(): Command {
  return new Command('drill')
    .description('run a failure drill against the running fleet, or all of them; prints PASS/FAIL/SKIP with timings')
    .argument('<name>', `one of: ${DRILL_SUMMARIES.map((d) => d.name).join(', ')}; a comma-separated list; or all`)
    .option('--scenarios <dir>', 'directory of <drill>.yaml parameter files (default: the packaged fixtures/scenarios)')
    .option(
      '--param <drill.key=value>',
      'override a scenario parameter, e.g. thundering-herd.size=50 (repeatable)',
      (v: string, acc: string[]) => [...acc, v],
      [] as string[],
    )
    .option(
      '--backend <backend>',
      `check that the running fleet uses this backend (${SANDBOX_BACKENDS.join('|')}) before drilling`,
    )
    .option('--json', 'print the results as JSON at the end (the only output on stdout then)', false)
    .addHelpText(
      'after',
      `\nDrills (# = number in issue #14):\n${DRILL_SUMMARIES.map((d) => `  ${String(d.number ?? '').padStart(2)} ${d.name.padEnd(18)} ${d.description}`).join('\n')}`,
    )
    .action(
      async (
        name: string,
        opts: { scenarios?: string; param: string[]; json: boolean; backend?: string },
        cmd: Command,
      ) => {
        const { DRILLS, runDrills, summaryTable } = await import('../drills/run-drills.js');
        const wanted = name === 'all' ? DRILLS.map((d) => d.name) : name.split(',').map((n) => n.trim());
        const unknown = wanted.filter((n) => !DRILLS.some((d) => d.name === n));
        if (unknown.length > 0 || wanted.length === 0) {
          throw new FleetgateError(
            'ERR_FG_NOT_FOUND',
            `unknown drill ${unknown.join(', ') || name}; choose from ${DRILLS.map((d) => d.name).join(', ')}, all`,
          );
        }
        const drills = DRILLS.filter((d) => wanted.includes(d.name));
        const client = connectSandbox(resolveStatePath(cmd));
        if (opts.backend !== undefined && opts.backend !== client.state.backend) {
          throw new FleetgateError(
            'ERR_FG_INVALID_CONFIG',
            `--backend ${opts.backend}: the running sandbox uses ${client.state.backend} (start it with gw-sandbox up --backend ${opts.backend})`,
          );
        }
        // With --json, stdout carries the JSON alone (progress goes to stderr) so CI can parse it.
        const print = opts.json ? (line: string) => console.error(line) : (line: string) => console.log(line);
        const results = await runDrills(drills, {
          client,
          scenariosDir: opts.scenarios === undefined ? SCENARIOS_DIR : resolve(opts.scenarios),
          overrides: opts.param,
          print,
        });
        if (drills.length > 1) print(summaryTable(results));
        if (opts.json) console.log(JSON.stringify({ backend: client.state.backend, drills: results }, null, 2));
        if (results.some((r) => r.verdict === 'FAIL')) process.exitCode = 1;
      },
    );
}
