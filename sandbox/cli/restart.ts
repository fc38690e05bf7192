/**
 * `gw-sandbox restart <target>`: restart instances, gateways or the store.
 */
import { Command } from 'commander';
import { resolveStatePath } from './common.js';
import { connectSandbox } from './control-client.js';

/** The `restart` command. */
export function restartCommand(): Command {
  return new Command('restart')
    .description(
      'restart an instance, every instance of a service, a gateway (gateway: all, one at a time) or the store',
    )
    .argument('<target>', 'instance (orders-1), service (orders), gateway-1, gateway or store')
    .action(async (target: string, _opts: unknown, cmd: Command) => {
      const client = connectSandbox(resolveStatePath(cmd));
      const r = await client.call<{ restarted: string[]; ms: number }>('restart', { target });
      console.log(`✓ restarted ${r.restarted.join(', ')} in ${r.ms} ms`);
    });
}
