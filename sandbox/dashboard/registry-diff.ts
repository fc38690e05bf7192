/**
 * Turns two consecutive registry observations into dashboard events: an instance registered,
 * changed status, moved to a new address, re-registered, or left. A burst within one service
 * (a herd) becomes one summary line instead of hundreds.
 */
import type { SandboxEvent } from '../event-log.js';

/** Registry status of an instance as the gateways report it; `ABSENT` = no gateway lists it. */
export type RegistryStatus = 'UP' | 'DOWN' | 'UNKNOWN' | 'DRAINING' | 'ABSENT';

/** What was seen of each instance (`service/instanceId` → status, url, epoch) at the last poll. */
export type RegistryMemory = Map<
  string,
  { registry: RegistryStatus; url: string | undefined; epoch: number | undefined }
>;

/** The fields of an observed instance the diff needs. */
export interface ObservedInstance {
  service: string;
  instanceId: string;
  registry: RegistryStatus;
  url: string | undefined;
  epoch: number | undefined;
}

/** More changes than this in one service and one poll are summarised. */
const BURST = 6;

/**
 * Compares `instances` with `previous`.
 * @example const { next, events } = diffRegistry(new Map(), [{ service: 'a', instanceId: 'a-1', registry: 'UP', url: 'http://x', epoch: 1 }]);
 */
export function diffRegistry(
  previous: RegistryMemory,
  instances: Iterable<ObservedInstance>,
): { next: RegistryMemory; events: Array<Omit<SandboxEvent, 'at'>> } {
  const next: RegistryMemory = new Map();
  const changes: Array<{ service: string; target: string; message: string; level: SandboxEvent['level'] }> = [];
  for (const i of instances) {
    const key = `${i.service}/${i.instanceId}`;
    next.set(key, { registry: i.registry, url: i.url, epoch: i.epoch });
    const before = previous.get(key);
    const was = before?.registry ?? 'ABSENT';
    const change = (message: string, level: SandboxEvent['level']) =>
      changes.push({ service: i.service, target: i.instanceId, message, level });
    if (was !== i.registry) {
      const level = i.registry === 'UP' ? 'good' : i.registry === 'ABSENT' || i.registry === 'DOWN' ? 'bad' : 'warn';
      if (i.registry === 'ABSENT') change(`left the registry (was ${was})`, level);
      else if (was === 'ABSENT') change(`registered (${i.registry}) at ${i.url}`, level);
      else change(`${was} → ${i.registry}`, level);
    } else if (before !== undefined && i.registry !== 'ABSENT' && before.url !== i.url) {
      change(`moved ${before.url} → ${i.url}`, 'warn');
    } else if (before?.epoch !== undefined && i.epoch !== undefined && i.epoch > before.epoch) {
      change(`re-registered (epoch ${i.epoch})`, 'info');
    }
  }
  const events: Array<Omit<SandboxEvent, 'at'>> = [];
  const byService = new Map<string, typeof changes>();
  for (const c of changes) byService.set(c.service, [...(byService.get(c.service) ?? []), c]);
  for (const [service, list] of byService) {
    if (list.length <= BURST) {
      for (const c of list) events.push({ kind: 'registry', target: c.target, level: c.level, message: c.message });
      continue;
    }
    const counts = new Map<string, number>();
    for (const c of list) {
      const what = c.message.split(' (')[0] as string;
      counts.set(what, (counts.get(what) ?? 0) + 1);
    }
    const summary = [...counts].map(([m, n]) => `${n}× ${m}`).join(', ');
    events.push({
      kind: 'registry',
      target: service,
      level: 'info',
      message: `${list.length} instances changed: ${summary}`,
    });
  }
  return { next, events };
}
