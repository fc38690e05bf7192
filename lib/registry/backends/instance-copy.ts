/**
 * Copies of stored instances for the in-memory backend's answers and events: the registration
 * data is JSON (lib/registry/backends/registration-input.ts validates it), so a plain recursive
 * copy replaces `structuredClone` for it, at a fraction of the cost on the heartbeat path.
 */
import type { ServiceInstance } from '../model.js';

/**
 * A deep copy of `instance` that shares nothing mutable with it.
 * @example const copy = copyInstance(stored); copy.routes.push(r); // stored.routes unchanged
 */
export function copyInstance(instance: ServiceInstance): ServiceInstance {
  return copyJson(instance) as ServiceInstance;
}

/**
 * A deep copy of `value`: arrays and plain objects are copied here, anything else that is an
 * object (a Date or a Map a caller put in metadata) by `structuredClone`, so the copy is the same
 * as `structuredClone(value)` for every value the backend stores.
 */
export function copyJson(value: unknown): unknown {
  if (typeof value !== 'object' || value === null) return value;
  if (Array.isArray(value)) {
    const out = new Array<unknown>(value.length);
    for (let i = 0; i < value.length; i++) out[i] = copyJson(value[i]);
    return out;
  }
  if (Object.getPrototypeOf(value) !== Object.prototype) return structuredClone(value);
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(value)) {
    const copy = copyJson((value as Record<string, unknown>)[key]);
    // A JSON body may carry an own "__proto__" key: keep it a key, never the copy's prototype.
    if (key === '__proto__')
      Object.defineProperty(out, key, { value: copy, enumerable: true, writable: true, configurable: true });
    else out[key] = copy;
  }
  return out;
}
