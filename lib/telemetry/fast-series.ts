/**
 * Counters and histograms for the request path, registered in a prom-client Registry as custom
 * metrics (an object with `name`, `help`, `type` and `get()`, which `Registry.metrics()` renders
 * like its own). prom-client's own `.labels(...)` children hash their label object on every
 * `inc`/`observe`; here a label set is resolved once into a {@link CounterCell} or
 * {@link HistogramCell} that the caller keeps, so counting a request is a field increment and a
 * bucket search: no strings, no objects. docs/metrics.md
 */
import type { Registry } from 'prom-client';

type Labels = Record<string, string>;

/** One sample line, as prom-client's Registry renders it. */
export interface SampleValue {
  labels: Labels;
  value: number;
  /** `<name>_bucket`, `_sum`, `_count` for histograms; the metric's name when absent. */
  metricName?: string;
}

/** What `get()` hands prom-client's Registry. */
export interface MetricSnapshot {
  name: string;
  help: string;
  type: 'counter' | 'histogram';
  aggregator: 'sum';
  values: SampleValue[];
}

/** One label set of a {@link FastCounter}. */
export interface CounterCell {
  value: number;
}

/** One label set of a {@link FastHistogram}. */
export class HistogramCell {
  /** Observations per bucket (not cumulative); the last slot is `+Inf`. */
  readonly counts: Float64Array;
  sum = 0;
  count = 0;
  readonly #bounds: readonly number[];

  constructor(bounds: readonly number[]) {
    this.#bounds = bounds;
    this.counts = new Float64Array(bounds.length + 1);
  }

  /** Records one value (seconds, for the duration histograms). */
  observe(value: number): void {
    const bounds = this.#bounds;
    let i = 0;
    while (i < bounds.length && value > bounds[i]!) i++;
    this.counts[i]!++;
    this.sum += value;
    this.count++;
  }
}

/** What both kinds share: the label sets in creation order, each under its key. */
abstract class FastMetric<C> {
  readonly name: string;
  readonly help: string;
  readonly labelNames: readonly string[];
  readonly aggregator = 'sum' as const;
  protected readonly cells = new Map<string, { labels: Labels; cell: C }>();

  constructor(name: string, help: string, labelNames: readonly string[], registry: Registry) {
    this.name = name;
    this.help = help;
    this.labelNames = labelNames;
    registry.registerMetric(this as never);
  }

  protected abstract create(): C;

  /**
   * The cell of one label set, created on first use (label values in `labelNames` order).
   * Builds a key: call it once per label set and keep the cell.
   */
  cell(...values: string[]): C {
    const key = values.join('\u0000');
    let entry = this.cells.get(key);
    if (entry === undefined) {
      const labels: Labels = {};
      for (let i = 0; i < this.labelNames.length; i++) labels[this.labelNames[i]!] = values[i] ?? '';
      entry = { labels, cell: this.create() };
      this.cells.set(key, entry);
    }
    return entry.cell;
  }

  /** Drops one label set (an instance that left); a cell the caller still holds counts into nothing. */
  remove(...values: string[]): void {
    this.cells.delete(values.join('\u0000'));
  }

  /** Drops every label set. */
  reset(): void {
    this.cells.clear();
  }
}

/** A counter whose label sets are resolved once. */
export class FastCounter extends FastMetric<CounterCell> {
  readonly type = 'counter' as const;

  protected create(): CounterCell {
    return { value: 0 };
  }

  /** For prom-client's Registry. */
  get(): MetricSnapshot {
    const values: SampleValue[] = [];
    for (const { labels, cell } of this.cells.values()) values.push({ labels, value: cell.value });
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
  }
}

/** A histogram whose label sets are resolved once. */
export class FastHistogram extends FastMetric<HistogramCell> {
  readonly type = 'histogram' as const;
  readonly #bounds: readonly number[];

  constructor(
    name: string,
    help: string,
    labelNames: readonly string[],
    bounds: readonly number[],
    registry: Registry,
  ) {
    super(name, help, labelNames, registry);
    this.#bounds = [...bounds].sort((a, b) => a - b);
  }

  protected create(): HistogramCell {
    return new HistogramCell(this.#bounds);
  }

  /** For prom-client's Registry: cumulative `_bucket` lines (`le` first, as prom-client writes them), `_sum`, `_count`. */
  get(): MetricSnapshot {
    const values: SampleValue[] = [];
    const bounds = this.#bounds;
    for (const { labels, cell } of this.cells.values()) {
      let cumulative = 0;
      for (let i = 0; i <= bounds.length; i++) {
        cumulative += cell.counts[i]!;
        const le = i === bounds.length ? '+Inf' : String(bounds[i]);
        values.push({ labels: { le, ...labels }, value: cumulative, metricName: `${this.name}_bucket` });
      }
      values.push({ labels, value: cell.sum, metricName: `${this.name}_sum` });
      values.push({ labels, value: cell.count, metricName: `${this.name}_count` });
    }
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
  }
}
