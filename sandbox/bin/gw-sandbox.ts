#!/usr/bin/env node
/**
 * The `gw-sandbox` bin. `npx gw-sandbox up` starts a local fleet; `--help` on any command says more.
 */
import { reportError } from '../cli/common.js';
import { createProgram } from '../cli/program.js';

// `gw-sandbox status | head` closes the pipe early: that is the reader's choice, not an error.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EPIPE') throw err;
  });
}

createProgram()
  .parseAsync(process.argv)
  .catch((err: unknown) => {
    reportError(err);
    process.exitCode = 1;
  });
