/**
 * Shared by the route-table tests (route-table.test.ts, route-table.changes.test.ts): a real
 * Registry on a fake clock, a hand-driven registry for states the real one refuses, and lookups
 * the way the proxy makes them.
 */
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { FakeClock } from '../clock.js';
import { isPathFailure, normalizePath } from '../core/path-normalize.js';
import { MemoryBackend } from '../registry/backends/memory.js';
import type { RegistrationInput, RouteSpec, ServiceInstance } from '../registry/model.js';
import { Registry } from '../registry/registry.js';
import type { RegistryApi, RegistryEventMap } from '../registry/registry-api.js';
import type { RouteTable } from './route-table.js';

export const get = (path: string): RouteSpec => ({ method: 'GET', path });
export const any = (path: string): RouteSpec => ({ method: '*', path });

/** The real Registry over a MemoryBackend, both on one FakeClock. */
export async function fakeRegistry(options: { ttlMs?: number } = {}) {
  const clock = new FakeClock();
  const backend = new MemoryBackend({ clock });
  const registry = new Registry({ backend, clock, ownsBackend: true, ...options });
  await registry.ready();
  return {
    clock,
    registry,
    async [Symbol.asyncDispose]() {
      await registry.close();
    },
  };
}

/** A registration of `service`/`instanceId` on a loopback port. */
export function instanceInput(
  service: string,
  instanceId: string,
  extra: Partial<RegistrationInput> = {},
): RegistrationInput {
  return { service, instanceId, url: `http://127.0.0.1:${7000 + instanceId.length}`, ...extra };
}

/** Matches a raw URL the way the proxy does: normalise, then look up. */
export function route(table: RouteTable, method: string, rawUrl: string) {
  const n = normalizePath(rawUrl);
  assert.ok(!isPathFailure(n));
  return table.match(method, n.path, n.query);
}

/** The registry seen through a proxy that counts reads of `instances()` (a walk over a service). */
export function countingReads(target: Registry): { registry: RegistryApi; reads: { count: number } } {
  const reads = { count: 0 };
  const registry = new Proxy(target, {
    get(t, prop) {
      if (prop === 'instances') {
        return (service?: string) => {
          reads.count++;
          return t.instances(service);
        };
      }
      const value = Reflect.get(t, prop, t);
      return typeof value === 'function' ? value.bind(t) : value;
    },
  });
  return { registry, reads };
}

/** The instance ids a match routes to. */
export function table_ids(table: RouteTable, hit: NonNullable<ReturnType<RouteTable['match']>>): string[] {
  return table.instancesFor(hit).map((i) => i.instanceId);
}

/** A hand-driven registry: for states the real one refuses to create (colliding services). */
export class StubRegistry extends EventEmitter<RegistryEventMap> implements RegistryApi {
  readonly ttlMs = 90_000;
  readonly list: ServiceInstance[];
  #resolve!: () => void;
  readonly #ready = new Promise<void>((r) => {
    this.#resolve = r;
  });

  constructor(list: ServiceInstance[]) {
    super();
    this.list = list;
  }
  resolveReady(): void {
    this.#resolve();
  }
  remove(service: string, instanceId: string): void {
    const i = this.list.findIndex((x) => x.service === service && x.instanceId === instanceId);
    const [previous] = this.list.splice(i, 1);
    this.emit('change', { type: 'deregister', service, instanceId, ...(previous ? { previous } : {}) });
  }
  ready(): Promise<void> {
    return this.#ready;
  }
  instances(service?: string): ServiceInstance[] {
    return this.list.filter((i) => service === undefined || i.service === service);
  }
  get(service: string, instanceId: string): ServiceInstance | undefined {
    return this.list.find((i) => i.service === service && i.instanceId === instanceId);
  }
  services(): string[] {
    return [...new Set(this.list.map((i) => i.service))];
  }
  register(): Promise<ServiceInstance> {
    throw new Error('not used');
  }
  heartbeat(): Promise<ServiceInstance> {
    throw new Error('not used');
  }
  deregister(): Promise<boolean> {
    throw new Error('not used');
  }
  setStatus(): Promise<ServiceInstance | undefined> {
    throw new Error('not used');
  }
  health(): ReturnType<RegistryApi['health']> {
    return { type: 'STUB', connected: true, selfPreservation: { active: false, preserved: 0 } };
  }
  async close(): Promise<void> {}
  async [Symbol.asyncDispose](): Promise<void> {}
}
