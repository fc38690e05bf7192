/**
 * Drill parameters: `fixtures/scenarios/<drill>.yaml` (a flat map), overridden by
 * `--param <drill>.<key>=<value>` on the command line.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { FleetgateError } from '../../lib/errors.js';

/**
 * Reads the scenario of one drill; a missing file means defaults (an empty map).
 * @throws FleetgateError `ERR_FG_INVALID_CONFIG` when the file is not a YAML map.
 */
export function loadScenario(dir: string, drill: string): Record<string, unknown> {
  const file = join(dir, `${drill}.yaml`);
  if (!existsSync(file)) return {};
  let value: unknown;
  try {
    value = parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new FleetgateError('ERR_FG_INVALID_CONFIG', `scenario ${file}: ${(err as Error).message}`, { cause: err });
  }
  if (value === null || value === undefined) return {};
  if (typeof value !== 'object' || Array.isArray(value)) {
    throw new FleetgateError('ERR_FG_INVALID_CONFIG', `scenario ${file} must be a map of parameters`);
  }
  const { drill: _name, description: _d, ...params } = value as Record<string, unknown>;
  return params;
}

/**
 * Applies `drill.key=value` overrides for `drill` (values parsed as YAML scalars: `5s`, `200`, `true`).
 * @example applyOverrides({}, 'crash', ['crash.bound=3s']) // { bound: '3s' }
 */
export function applyOverrides(
  params: Record<string, unknown>,
  drill: string,
  overrides: readonly string[],
): Record<string, unknown> {
  const out = { ...params };
  for (const o of overrides) {
    const m = /^([a-z-]+)\.([A-Za-z0-9_]+)=(.*)$/.exec(o);
    if (!m) throw new FleetgateError('ERR_FG_INVALID_CONFIG', `--param ${o}: expected <drill>.<key>=<value>`);
    if (m[1] === drill) out[m[2] as string] = parse(m[3] as string) as unknown;
  }
  return out;
}
