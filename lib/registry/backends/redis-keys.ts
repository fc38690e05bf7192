/**
 * Key layout and wire formats of the Redis registry backend (README "Registry backends"):
 *
 * - `<prefix>:{<service>}:inst:<id>`: hash holding one instance (see redis-scripts.ts), PEXPIREd
 *   at its TTL plus a retention window so the reaper can still report its last value;
 * - `<prefix>:{<service>}:expiry`: sorted set of the service's instance ids scored by `expiresAt`;
 * - `<prefix>:services`: set of service names (its own slot). On a standalone server the register
 *   script adds the name itself; on a cluster it cannot (another slot), so the script reads
 *   `<prefix>:{<service>}:listed`, a mark set once the name was added, and only a registration
 *   that finds no mark adds the name (then sets the mark);
 * - `<prefix>:{routes}:claims`: hash of every service's route claim plus a `~v` version
 *   (lib/registry/backends/store-route-claims.ts), and `<prefix>:{routes}:claims-log`, a sorted
 *   set of service → the version that last wrote its claim (so a gateway reads only what
 *   changed), both in one slot;
 * - `<prefix>:reaper-lock`: the single reaper's lock; `<prefix>:events`: the change channel.
 *
 * Every key of a service carries the hash tag `{<service>}`, so a script touching one service's
 * keys runs in one slot of a Redis Cluster.
 */
import { FleetgateError } from '../../errors.js';
import type { InstanceStatus, RegistryEvent, ServiceInstance } from '../model.js';
import type { InstanceDoc } from './registration-input.js';

/** The key names for one prefix. */
export class RedisKeys {
  readonly prefix: string;
  /** The set of service names. */
  readonly services: string;
  /** The reaper lock. */
  readonly reaperLock: string;
  /** The pub/sub channel events are published on. */
  readonly channel: string;
  /** The route-claims hash. */
  readonly claims: string;
  /** The route-claims change log (service → version of its last write). */
  readonly claimsLog: string;

  /** @param prefix must not contain `{` or `}` (it would change the hash tag). */
  constructor(prefix: string) {
    if (prefix === '' || /[{}]/.test(prefix)) {
      throw new FleetgateError('ERR_FG_INVALID_CONFIG', `keyPrefix must be non-empty without { or }, got ${prefix}`);
    }
    this.prefix = prefix;
    this.services = `${prefix}:services`;
    this.reaperLock = `${prefix}:reaper-lock`;
    this.channel = `${prefix}:events`;
    this.claims = `${prefix}:{routes}:claims`;
    this.claimsLog = `${prefix}:{routes}:claims-log`;
  }

  /** Prefix of a service's instance keys: append the instance id. */
  instancePrefix(service: string): string {
    return `${this.prefix}:{${service}}:inst:`;
  }

  /** One instance's hash. */
  instance(service: string, instanceId: string): string {
    return this.instancePrefix(service) + instanceId;
  }

  /** A service's expiry sorted set. */
  expiry(service: string): string {
    return `${this.prefix}:{${service}}:expiry`;
  }

  /**
   * A service's `listed` mark (Redis Cluster): set once the service's name was added to the
   * set of services, in the service's own slot so the register script can read it.
   */
  listed(service: string): string {
    return `${this.prefix}:{${service}}:listed`;
  }
}

/** An instance as the scripts return it: doc JSON, registeredAt, lastHeartbeat, expiresAt, status, epoch. */
export type InstanceTuple = [string, string, string, string, string, string];

/** Rebuilds an instance from a script's reply. */
export function instanceFromTuple(t: InstanceTuple): ServiceInstance {
  // Filled in place: the parsed doc is ours, and a copy per instance doubled a 10,000-instance listing's garbage.
  const instance = JSON.parse(t[0]) as ServiceInstance;
  instance.registeredAt = Number(t[1]);
  instance.lastHeartbeat = Number(t[2]);
  instance.expiresAt = Number(t[3]);
  instance.status = t[4] as InstanceStatus;
  instance.epoch = Number(t[5]);
  return instance;
}

/** The event JSON the scripts publish (short keys keep messages small). */
interface WireEvent {
  t: RegistryEvent['type'];
  s: string;
  i: string;
  d?: InstanceDoc;
  r?: number;
  h?: number;
  x?: number;
  st?: InstanceStatus;
  e?: number;
}

const EVENT_TYPES = new Set(['register', 'heartbeat', 'deregister', 'expire', 'status']);

/** Parses a published event; `undefined` for anything that is not one (never throws). */
export function eventFromMessage(message: string): RegistryEvent | undefined {
  let w: WireEvent;
  try {
    w = JSON.parse(message) as WireEvent;
  } catch {
    return undefined;
  }
  if (typeof w !== 'object' || w === null || !EVENT_TYPES.has(w.t) || typeof w.s !== 'string') return undefined;
  if (typeof w.i !== 'string') return undefined;
  const event: RegistryEvent = { type: w.t, service: w.s, instanceId: w.i };
  if (w.d !== undefined) {
    event.instance = {
      ...w.d,
      registeredAt: Number(w.r),
      lastHeartbeat: Number(w.h),
      expiresAt: Number(w.x),
      status: w.st as InstanceStatus,
      epoch: Number(w.e),
    };
  }
  return event;
}

/**
 * What names a published event: its text up to the doc (`,"d":`, always last), or all of it when
 * it carries none. Two messages with the same identity are the same event (a registration's doc
 * changes only with its `registeredAt` and epoch). `,"d":` cannot occur earlier: inside a JSON
 * string every `"` is escaped.
 * @example eventIdentity('{"t":"heartbeat","s":"a","i":"b","h":5,"r":1,"x":9,"st":"UP","e":1,"d":{}}')
 * // '{"t":"heartbeat","s":"a","i":"b","h":5,"r":1,"x":9,"st":"UP","e":1'
 */
export function eventIdentity(message: string): string {
  const doc = message.indexOf(',"d":');
  return doc === -1 ? message : message.slice(0, doc);
}
