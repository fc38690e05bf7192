/**
 * A cap on V8's young generation for the bin (docs/scale.md "Resident memory of the bin").
 *
 * V8 doubles the young generation whenever enough objects survive its scavenges, up to 32 MB on
 * 64-bit Node 20 (two 16 MB semi-spaces), and gives it back only after the process has been quiet
 * for a while. A burst of registrations creates that many long-lived objects, so a gateway that
 * just took 10,000 registrations held 32 MB of young generation, most of it empty, for minutes.
 * `--max-semi-space-size` caps it, but only on the `node` command line: V8 reads it when the heap
 * is set up. What V8 reads each time it grows the young generation is
 * `--semi-space-growth-factor`, so the cap here follows every collection (a `gc` performance
 * entry) and sets that factor to 1 once the young generation reached the cap (no more growth) and
 * back to 2, V8's default, when V8 shrank it below. Growth happens one doubling at a time and only
 * after a young generation's worth of objects survived, so the cap is reached, not overshot by more
 * than one doubling.
 *
 * A `node` command line (or `NODE_OPTIONS`) that sizes the young generation itself wins: then the
 * bin leaves it alone. The bin applies the cap with the in-memory store only: with a store,
 * requests wait on round trips and a small young generation promotes them instead.
 */
import { PerformanceObserver } from 'node:perf_hooks';
import { getHeapSpaceStatistics, setFlagsFromString } from 'node:v8';

/** The young generation's default cap in the bin, in MB (both semi-spaces). */
export const YOUNG_GENERATION_CAP_MB = 8;

/** V8's own growth factor (its `--semi-space-growth-factor` default). */
const V8_GROWTH_FACTOR = 2;

/** Node and V8 flags that size the young generation: when given, the cap is not applied. */
const SIZING_FLAGS = /--(?:max|min)[-_]semi[-_]space[-_]size|--semi[-_]space[-_]growth[-_]factor/;

/** A running cap; `close()` stops following collections and gives V8 its default growth back. */
export interface YoungGenerationCap {
  close(): void;
}

/** The young generation's size now, in bytes (both semi-spaces). */
export function youngGenerationBytes(): number {
  for (const space of getHeapSpaceStatistics()) if (space.space_name === 'new_space') return space.space_size;
  return 0;
}

/** Whether the process was started with a flag that sizes the young generation. */
export function youngGenerationSizedByUser(
  execArgv: readonly string[] = process.execArgv,
  nodeOptions: string | undefined = process.env.NODE_OPTIONS,
): boolean {
  return execArgv.some((a) => SIZING_FLAGS.test(a)) || SIZING_FLAGS.test(nodeOptions ?? '');
}

/**
 * Caps the young generation at `capMb` (both semi-spaces) unless the command line sizes it.
 * Returns the running cap, or `undefined` when the command line's flags apply.
 * @example const cap = capYoungGeneration(); // … later: cap?.close();
 */
export function capYoungGeneration(capMb: number = YOUNG_GENERATION_CAP_MB): YoungGenerationCap | undefined {
  if (youngGenerationSizedByUser()) return undefined;
  const cap = capMb * 1024 * 1024;
  let factor = V8_GROWTH_FACTOR;
  const follow = (): void => {
    const next = youngGenerationBytes() >= cap ? 1 : V8_GROWTH_FACTOR;
    if (next === factor) return;
    factor = next;
    setFlagsFromString(`--semi-space-growth-factor=${factor}`);
  };
  follow();
  const observer = new PerformanceObserver(follow);
  observer.observe({ entryTypes: ['gc'] });
  return {
    close(): void {
      observer.disconnect();
      if (factor !== V8_GROWTH_FACTOR) setFlagsFromString(`--semi-space-growth-factor=${V8_GROWTH_FACTOR}`);
      factor = V8_GROWTH_FACTOR;
    },
  };
}
