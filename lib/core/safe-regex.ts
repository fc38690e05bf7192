/**
 * Regular expressions that a route predicate may carry, limited to a subset whose matching cost
 * stays bounded on any input. V8 backtracks, so `(a+)+$` against `aaaa…!` takes exponential time
 * and `\d*\d*\d*x` polynomial time; a registration must not be able to stall the gateway's request
 * path that way (docs/predicates.md, "Regex safety"). The subset:
 *
 * - at most {@link SAFE_REGEX_LIMITS.maxLength} characters;
 * - no backreferences (`\1`, `\k<n>`) and no lookaround (`(?=`, `(?!`, `(?<=`, `(?<!`);
 * - a group may only be made optional (`(…)?`, `{0,1}`): repetition applies to single
 *   characters, classes and escapes, never to a group, so nested and alternated repetition cannot
 *   be written at all;
 * - at most {@link SAFE_REGEX_LIMITS.maxVariableQuantifiers} variable quantifiers (`*`, `+`, `{n,}`, `{n,m}`);
 * - the tested value is at most {@link SAFE_REGEX_LIMITS.maxInputLength} characters: a longer one
 *   never matches (see {@link testSafeRegex}).
 *
 * With those limits a match costs at most about `n³` steps for `n` = 256, typically far less.
 */

/** The limits of {@link checkSafeRegex}. Frozen. */
export const SAFE_REGEX_LIMITS = Object.freeze({
  /** Most characters in a pattern. @default 128 */
  maxLength: 128,
  /** Most `*`, `+`, `{n,}` or `{n,m}` quantifiers in a pattern. @default 2 */
  maxVariableQuantifiers: 2,
  /** Longest value a pattern is tested against; longer values never match. @default 256 */
  maxInputLength: 256,
});

/**
 * Why `source` is not an acceptable predicate regex, or `undefined` when it is.
 * @example checkSafeRegex('(a+)+$') // 'a group may only be made optional (?), not repeated'
 * @example checkSafeRegex('^v2(-beta)?$') // undefined
 */
export function checkSafeRegex(source: string): string | undefined {
  if (source.length === 0) return 'must not be empty';
  if (source.length > SAFE_REGEX_LIMITS.maxLength) {
    return `must be at most ${SAFE_REGEX_LIMITS.maxLength} characters`;
  }
  let variable = 0;
  // What the next quantifier would apply to.
  let last: 'none' | 'atom' | 'group' | 'quantified' = 'none';
  let depth = 0;
  let i = 0;
  while (i < source.length) {
    const c = source[i]!;
    if (c === '\\') {
      const next = source[i + 1];
      if (next === undefined) return 'ends with a lone backslash';
      if (/[1-9]/.test(next) || next === 'k') return 'backreferences are not allowed';
      i += 2;
      last = 'atom';
      continue;
    }
    if (c === '[') {
      const end = classEnd(source, i);
      if (end < 0) return 'has an unterminated character class';
      i = end + 1;
      last = 'atom';
      continue;
    }
    if (c === '(') {
      if (/^\(\?(=|!|<=|<!)/.test(source.slice(i, i + 4))) return 'lookaround is not allowed';
      if (source.startsWith('(?:', i)) i += 3;
      else if (source.startsWith('(?<', i)) {
        const close = source.indexOf('>', i);
        if (close < 0) return 'has an unterminated group name';
        i = close + 1;
      } else i++;
      depth++;
      last = 'none';
      continue;
    }
    if (c === ')') {
      if (depth === 0) return 'has an unbalanced )';
      depth--;
      i++;
      last = 'group';
      continue;
    }
    const q = quantifierAt(source, i);
    if (q !== undefined) {
      if (last === 'none') return 'has a quantifier with nothing to repeat';
      if (last === 'quantified') return 'has a quantifier on a quantifier';
      if (last === 'group' && q.max > 1) return 'a group may only be made optional (?), not repeated';
      if (q.min !== q.max && q.max > 1 && ++variable > SAFE_REGEX_LIMITS.maxVariableQuantifiers) {
        return `may hold at most ${SAFE_REGEX_LIMITS.maxVariableQuantifiers} variable quantifiers (*, +, {n,m})`;
      }
      i = q.end;
      if (source[i] === '?') i++; // lazy: same cost bound
      last = 'quantified';
      continue;
    }
    last = c === '|' ? 'none' : 'atom';
    i++;
  }
  if (depth !== 0) return 'has an unbalanced (';
  try {
    new RegExp(source);
  } catch (err) {
    return `is not a valid regular expression: ${(err as Error).message}`;
  }
  return undefined;
}

/**
 * Whether `value` matches `re`, a pattern accepted by {@link checkSafeRegex}; values longer than
 * {@link SAFE_REGEX_LIMITS.maxInputLength} never match.
 * @example testSafeRegex(/^beta/, 'beta-1') // true
 */
export function testSafeRegex(re: RegExp, value: string): boolean {
  return value.length <= SAFE_REGEX_LIMITS.maxInputLength && re.test(value);
}

/** Index of the `]` closing the class that starts at `start`, or -1. */
function classEnd(source: string, start: number): number {
  let i = start + 1;
  if (source[i] === '^') i++;
  for (; i < source.length; i++) {
    const c = source[i];
    if (c === '\\') i++;
    else if (c === ']') return i;
  }
  return -1;
}

/** The quantifier at `i`, if any (a `{` that is not `{n}`, `{n,}` or `{n,m}` is a literal in JS). */
function quantifierAt(source: string, i: number): { min: number; max: number; end: number } | undefined {
  const c = source[i];
  if (c === '*') return { min: 0, max: Number.POSITIVE_INFINITY, end: i + 1 };
  if (c === '+') return { min: 1, max: Number.POSITIVE_INFINITY, end: i + 1 };
  if (c === '?') return { min: 0, max: 1, end: i + 1 };
  if (c !== '{') return undefined;
  const m = /^\{(\d+)(,(\d*))?\}/.exec(source.slice(i, i + 24));
  if (m === null) return undefined;
  const min = Number(m[1]);
  const max = m[2] === undefined ? min : m[3] === '' ? Number.POSITIVE_INFINITY : Number(m[3]);
  return { min, max, end: i + m[0].length };
}
