/**
 * Finding server binaries, and what a suite does when one is missing: in CI the test fails
 * (a missing server must never pass as "skipped"); on a laptop the suite is reported skipped
 * with the reason.
 */
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

/** The absolute path of `name` on `PATH`, or `undefined`. */
export function findBinary(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir === '') continue;
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // Not here.
    }
  }
  return undefined;
}

/** True when running in CI (`CI=true`), where missing servers fail instead of skipping. */
export function inCi(): boolean {
  return process.env.CI === 'true';
}

/**
 * Turns a missing prerequisite into a skip reason, or into an error in CI.
 * @returns `undefined` when `problem` is undefined, else the skip reason.
 * @throws Error in CI when `problem` is set.
 */
export function skipOrThrow(problem: string | undefined): string | undefined {
  if (problem === undefined) return undefined;
  if (inCi()) throw new Error(`${problem} (CI=true: servers are required, tests may not be skipped)`);
  return problem;
}

/**
 * `undefined` when every named binary is on PATH, else a skip reason naming the missing ones.
 * Throws in CI instead of returning a reason.
 * @example describe('redis backend', { skip: requireBinary('redis-server', 'redis-cli') }, () => { ... });
 */
export function requireBinary(...names: string[]): string | undefined {
  const missing = names.filter((n) => findBinary(n) === undefined);
  return skipOrThrow(
    missing.length === 0
      ? undefined
      : `${missing.join(', ')} not found on PATH (install: apt-get install redis-server etcd-server)`,
  );
}
