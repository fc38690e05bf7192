/**
 * `gw-sandbox scale <service> <n>`: add or remove (gracefully) instances of a service.
 */
import { Command, InvalidArgumentError } from 'commander';
import { resolveStatePath } from './common.js';
import { connectSandbox } from './control-client.js';

/** The `scale` command. */
export function scaleCommand(): Command {
  return new Command('scale')
    .description('run n instances of a service (new ones start, extra ones deregister and stop)')
    .argument('<service>', 'service name from the fleet file')
    .argument('<n>', 'number of instances (0-50)', (v: string) => {
      const n = Number(v);
      if (!Number.isInteger(n) || n < 0 || n > 50) throw new InvalidArgumentError('expected an integer from 0 to 50');
      return n;
    })
    .action(async (service: string, count: number, _opts: unknown, cmd: Command) => {
      const client = connectSandbox(resolveStatePath(cmd));
      const r = await client.call<{ started: string[]; stopped: string[]; ms: number }>('scale', { service, count });
      const parts = [
        r.started.length > 0 ? `started ${r.started.join(', ')}` : '',
        r.stopped.length > 0 ? `stopped ${r.stopped.join(', ')}` : '',
      ].filter(Boolean);
      console.log(
        `✓ ${service} scaled to ${count}${parts.length > 0 ? ` (${parts.join('; ')})` : ' (unchanged)'} in ${r.ms} ms`,
      );
    });
}
