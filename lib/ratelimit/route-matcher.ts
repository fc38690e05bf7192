/**
 * The path patterns of per-route limits, in the route syntax of DESIGN.md §4: `*` one segment,
 * `**` the rest (zero or more segments), `:name` one segment, anything else literal.
 */
import { FleetgateError } from '../errors.js';

/** Compiles a pattern to a predicate over a path (without query string). */
export function compilePathPattern(pattern: string): (path: string) => boolean {
  if (!pattern.startsWith('/')) {
    throw new FleetgateError('ERR_FG_INVALID_CONFIG', `rateLimit: route path must start with '/': ${pattern}`, {
      details: { option: 'routes[].path', value: pattern },
    });
  }
  const segments = pattern.split('/').slice(1);
  let source = '^';
  for (let i = 0; i < segments.length; i++) {
    const seg = segments[i] as string;
    if (seg === '**') {
      // `/a/**` matches `/a` and everything below it.
      source += i === segments.length - 1 ? '(?:/.*)?' : '(?:/[^/]+)*';
    } else if (seg === '*' || seg.startsWith(':')) {
      source += '/[^/]+';
    } else {
      source += `/${seg.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`;
    }
  }
  const re = new RegExp(`${source}/?$`);
  return (path) => re.test(path);
}

/** The path of a request URL, without query string. */
export function pathOf(url: string | undefined): string {
  if (url === undefined) return '/';
  const q = url.indexOf('?');
  return q === -1 ? url : url.slice(0, q);
}
