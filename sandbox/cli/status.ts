/**
 * `gw-sandbox status`: what runs where, with the registry status the gateways report.
 */
import { Command } from 'commander';
import type { FleetSnapshot } from '../dashboard/fleet-view.js';
import type { ProcessRecord, SandboxState } from '../state-file.js';
import { resolveStatePath } from './common.js';
import { connectSandbox } from './control-client.js';
import { formatDuration, processTable } from './format.js';

/** The `status` command. */
export function statusCommand(): Command {
  return new Command('status')
    .description('show the running fleet: processes, urls, registry status, dashboard')
    .option('--json', 'print the raw state as JSON', false)
    .action(async (opts: { json: boolean }, cmd: Command) => {
      const client = connectSandbox(resolveStatePath(cmd));
      const live = await client.fetchState<SandboxState & { processes: ProcessRecord[]; snapshot: FleetSnapshot }>();
      if (opts.json) {
        console.log(JSON.stringify(live, null, 2));
        return;
      }
      const registry = new Map<string, string>();
      for (const s of live.snapshot.services) for (const i of s.instances) registry.set(i.instanceId, i.registry);
      const s = client.state;
      console.log(
        `gw-sandbox ${s.phase} (pid ${s.pid}, backend ${s.backend}${s.storeUrl ? ` via ${s.provider} at ${s.storeUrl}` : ''}, up ${formatDuration(Date.now() - Date.parse(s.startedAt))})`,
      );
      console.log('');
      console.log(processTable(live.processes, registry));
      const external = live.snapshot.services.flatMap((svc) => svc.instances.filter((i) => !i.managed));
      if (external.length > 0) console.log(`\n+ ${external.length} instance(s) registered from outside the sandbox`);
      console.log('');
      for (const g of live.snapshot.gateways) console.log(`${g.name.padEnd(10)} ${g.url ?? '-'}  ${g.health}`);
      console.log(`dashboard  ${s.controlUrl}`);
    });
}
