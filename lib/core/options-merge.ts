/**
 * The one options merge (docs/architecture.md): options are `Partial<Options>`, `undefined` means
 * "use the default", merged over one frozen DEFAULTS object that is never mutated.
 */

/**
 * Merges `options` over frozen `defaults`, dropping `undefined` values, so `{ ttlMs: undefined }`
 * means "use the default". Neither argument is mutated; absent `options` gives a copy of `defaults`.
 * @example const opts = mergeDefined(DEFAULTS, { ttlMs: 5000 });
 */
export function mergeDefined<T extends object, O extends object = Partial<T>>(
  defaults: Readonly<T>,
  options?: O | undefined,
): T & O {
  const out: Record<string, unknown> = { ...defaults };
  if (options !== undefined && options !== null)
    for (const [k, v] of Object.entries(options)) if (v !== undefined) out[k] = v;
  return out as T & O;
}

/**
 * A copy of `o` without its `undefined` fields, for spreading over other values.
 * @example ({ a: 1, ...dropUndefined({ a: undefined }) }).a // 1
 */
export function dropUndefined<T extends object>(o: T): Partial<T> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o)) if (v !== undefined) out[k] = v;
  return out as Partial<T>;
}
