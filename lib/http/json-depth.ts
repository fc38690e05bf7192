/**
 * The nesting depth of a parsed JSON value, measured without recursion, so a hostile body
 * (30,000 nested arrays parse fine) is refused before anything recursive (schema checks,
 * `JSON.stringify`, `structuredClone`) can overflow the stack on it.
 */

/**
 * True when `value` nests deeper than `maxDepth` (a scalar is depth 0, `[]` and `{}` depth 1).
 * Stops as soon as the limit is passed; visits each container once.
 * @example exceedsDepth(JSON.parse('[[[1]]]'), 2) // true
 */
export function exceedsDepth(value: unknown, maxDepth: number): boolean {
  const stack: { value: unknown; depth: number }[] = [{ value, depth: 0 }];
  while (stack.length > 0) {
    const top = stack.pop()!;
    if (typeof top.value !== 'object' || top.value === null) continue;
    const depth = top.depth + 1;
    if (depth > maxDepth) return true;
    const children = Array.isArray(top.value) ? top.value : Object.values(top.value);
    for (const child of children) if (typeof child === 'object' && child !== null) stack.push({ value: child, depth });
  }
  return false;
}
