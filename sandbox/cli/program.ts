/**
 * The `gw-sandbox` command line: one command per file in this directory.
 */
import { Command } from 'commander';
import { crashCommand } from './crash.js';
import { downCommand } from './down.js';
import { drillCommand } from './drill.js';
import { restartCommand } from './restart.js';
import { scaleCommand } from './scale.js';
import { statusCommand } from './status.js';
import { upCommand } from './up.js';

/**
 * Builds the program.
 * @example await createProgram().parseAsync(process.argv);
 */
export function createProgram(): Command {
  const program = new Command('gw-sandbox')
    .description('A local fleetgate fleet to rehearse crashes, restarts and re-registration, with a dashboard.')
    .option(
      '--state <file>',
      'state file of the running sandbox (default: $GW_SANDBOX_STATE or .gw-sandbox/state.json)',
    )
    .showHelpAfterError()
    .addHelpText(
      'after',
      `
Examples:
  gw-sandbox up                       in-memory registry, 1 gateway, the packaged fleet; Ctrl-C stops
  gw-sandbox up --backend redis --gateways 2 --detach
  gw-sandbox status
  gw-sandbox crash orders-1           kill -9 one instance (comes back after the fleet's restart delay)
  gw-sandbox restart gateway          restart every gateway, one at a time
  gw-sandbox drill all                run every drill, print PASS/FAIL, exit 1 on any FAIL
  gw-sandbox down`,
    );
  for (const cmd of [
    upCommand(),
    statusCommand(),
    downCommand(),
    crashCommand(),
    restartCommand(),
    scaleCommand(),
    drillCommand(),
  ]) {
    program.addCommand(cmd);
  }
  return program;
}
