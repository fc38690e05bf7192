/**
 * The slots a {@link import('./fleet-runner.js').FleetRunner} supervises (one per gateway and
 * per instance, kept across restarts) and how a command's target names them.
 */
import { FleetgateError } from '../lib/errors.js';
import type { Fleet, FleetService } from './fleet-file.js';
import type { ProcessRecord } from './state-file.js';
import type { ManagedChild } from './supervisor.js';

/** A unit's process status. */
export type UnitStatus = ProcessRecord['status'];

/** One supervised child slot: a gateway or an instance, across its restarts. */
export interface Unit {
  name: string;
  index: number;
  child: ManagedChild | undefined;
  status: UnitStatus;
  port: number | undefined;
  url: string | undefined;
  restartTimer: NodeJS.Timeout | undefined;
}

/** A gateway slot. */
export interface GatewayUnit extends Unit {
  role: 'gateway';
}

/** A fake service instance slot. */
export interface InstanceUnit extends Unit {
  role: 'service';
  service: FleetService;
}

/** A slot that has not started yet. */
export function blankUnit(name: string, index: number): Unit {
  return { name, index, child: undefined, status: 'stopped', port: undefined, url: undefined, restartTimer: undefined };
}

/** The state-file record of a slot. */
export function record(role: 'gateway' | 'service', u: Unit): ProcessRecord {
  const r: ProcessRecord = { role, name: u.name, status: u.status };
  if (u.child?.pid !== undefined) r.pid = u.child.pid;
  if (u.url !== undefined) r.url = u.url;
  if (u.port !== undefined) r.port = u.port;
  if (u.child !== undefined) r.log = u.child.spec.logFile;
  return r;
}

/**
 * The slots a target names: `gateway` (all gateways), `gateway-N`, an instance name, or a service
 * name (every instance, or with `onePerService` the first running one).
 * @throws FleetgateError `ERR_FG_NOT_FOUND` listing the known names.
 */
export function resolveTargets(
  target: string,
  gateways: readonly GatewayUnit[],
  instances: ReadonlyMap<string, InstanceUnit>,
  opts: { onePerService: boolean; hasStore: boolean; fleet: Fleet },
): Array<GatewayUnit | InstanceUnit> {
  if (target === 'gateway' || target === 'gateways') return [...gateways];
  const gateway = gateways.find((g) => g.name === target);
  if (gateway !== undefined) return [gateway];
  const instance = instances.get(target);
  if (instance !== undefined) return [instance];
  const ofService = [...instances.values()].filter((u) => u.service.name === target);
  if (ofService.length > 0) {
    if (!opts.onePerService) return ofService;
    const running = ofService.filter((u) => u.child?.running);
    return (running.length > 0 ? running : ofService).slice(0, 1);
  }
  throw unknownTarget(target, gateways, instances, opts.hasStore, opts.fleet);
}

/** The error for a target nothing answers to, listing what would. */
export function unknownTarget(
  target: string,
  gateways: readonly GatewayUnit[],
  instances: ReadonlyMap<string, InstanceUnit>,
  hasStore: boolean,
  fleet: Fleet,
): FleetgateError {
  const names = [
    ...fleet.services.map((s) => s.name),
    ...instances.keys(),
    ...gateways.map((g) => g.name),
    'gateway',
    ...(hasStore ? ['store'] : []),
  ];
  return new FleetgateError(
    'ERR_FG_NOT_FOUND',
    `unknown target ${JSON.stringify(target)}; known: ${names.join(', ')}`,
    {
      details: { known: names },
    },
  );
}
