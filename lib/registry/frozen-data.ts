/**
 * Frozen copies of registration data (routes, metadata) for the local cache, and the equality
 * test that lets the instances of one service share one copy. Unlike `structuredClone`, the copy
 * keeps the strings it is given (strings are immutable; cloning them only costs memory).
 */

/**
 * A deep, frozen copy of JSON-like data: plain objects and arrays are copied and frozen, anything
 * else that is an object (a Date, a Map) is cloned with `structuredClone` and frozen.
 * @example const routes = frozenCopy(instance.routes); Object.isFrozen(routes[0]) // true
 */
export function frozenCopy<T>(value: T): T {
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return Object.freeze(value.map(frozenCopy)) as T;
  const proto = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) return deepFreeze(structuredClone(value));
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(value)) {
    const copy = frozenCopy((value as Record<string, unknown>)[key]);
    // A JSON body may carry an own "__proto__" key: keep it a key, never the copy's prototype.
    if (key === '__proto__') Object.defineProperty(out, key, { value: copy, enumerable: true });
    else out[key] = copy;
  }
  return Object.freeze(out) as T;
}

/**
 * Deep equality of JSON-like data: same arrays, same own keys with equal values; any other
 * object is equal to itself only.
 * @example sameData([{ method: 'GET', path: '/a' }], [{ method: 'GET', path: '/a' }]) // true
 */
export function sameData(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (a === null || b === null || typeof a !== 'object' || typeof b !== 'object') return false;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!sameData(a[i], b[i])) return false;
    return true;
  }
  if (Array.isArray(b) || !isPlain(a) || !isPlain(b)) return false;
  const keys = Object.keys(a);
  if (keys.length !== Object.keys(b).length) return false;
  for (const key of keys) {
    if (!Object.hasOwn(b, key)) return false;
    if (!sameData((a as Record<string, unknown>)[key], (b as Record<string, unknown>)[key])) return false;
  }
  return true;
}

function isPlain(value: object): boolean {
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/** Freezes `value` and everything it holds. */
export function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}
