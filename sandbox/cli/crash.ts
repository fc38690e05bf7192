/**
 * `gw-sandbox crash <target>`: kill -9 an instance (or one instance of a service, or a gateway).
 */
import { Command } from 'commander';
import { resolveStatePath } from './common.js';
import { connectSandbox } from './control-client.js';

/** The `crash` command. */
export function crashCommand(): Command {
  return new Command('crash')
    .description('kill -9 an instance, one instance of a service (--all: every one) or a gateway')
    .argument('<target>', 'instance (orders-1), service (orders) or gateway (gateway-1)')
    .option('--hold', 'keep it down (no automatic restart) until: gw-sandbox restart <target>', false)
    .option('--all', 'with a service name: crash every instance', false)
    .action(async (target: string, opts: { hold: boolean; all: boolean }, cmd: Command) => {
      const client = connectSandbox(resolveStatePath(cmd));
      const r = await client.call<{ crashed: string[]; ms: number }>('crash', {
        target,
        hold: opts.hold,
        all: opts.all,
      });
      console.log(`✓ crashed ${r.crashed.join(', ')} (kill -9) in ${r.ms} ms${opts.hold ? '; held down' : ''}`);
    });
}
