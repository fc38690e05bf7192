/**
 * What every sandbox command shares: where the state file is, and how errors end the process.
 */
import type { Command } from 'commander';
import { isFleetgateError } from '../../lib/errors.js';
import { stateFilePath } from '../state-file.js';

/** The state file for this invocation: `--state`, else `$GW_SANDBOX_STATE`, else `.gw-sandbox/state.json`. */
export function resolveStatePath(cmd: Command): string {
  const opts = cmd.optsWithGlobals() as { state?: string };
  return opts.state !== undefined ? stateFilePath({ GW_SANDBOX_STATE: opts.state }) : stateFilePath();
}

/** Prints an error the way the CLI reports it: our own errors as their message, others with a stack. */
export function reportError(err: unknown): void {
  if (isFleetgateError(err)) console.error(`gw-sandbox: ${err.message}`);
  else if (err instanceof Error) console.error(`gw-sandbox: ${err.stack ?? err.message}`);
  else console.error(`gw-sandbox: ${String(err)}`);
}
