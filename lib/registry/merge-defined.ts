/**
 * Merges `options` over frozen `defaults`, dropping `undefined` values, so `{ ttlMs: undefined }`
 * means "use the default" (CONVENTIONS.md §3). Neither argument is mutated.
 * @example const opts = mergeDefined(DEFAULTS, { ttlMs: 5000 });
 */
export function mergeDefined<T extends object, O extends Partial<T>>(defaults: Readonly<T>, options: O): T & O {
  const out: Record<string, unknown> = { ...defaults };
  for (const [k, v] of Object.entries(options)) if (v !== undefined) out[k] = v;
  return out as T & O;
}
