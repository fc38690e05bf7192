/**
 * The request path's series: `fleetgate_requests_total{service,route,status}`,
 * `fleetgate_upstream_duration_seconds{service}` and `fleetgate_route_upstream_duration_seconds{service,route}`.
 * The route label is the matched pattern, never the raw path, and the number of distinct
 * (service, route) pairs is capped: past `maxRouteSeries` a new pair is counted under the route
 * `(other)`, so a registrant that claims thousands of patterns cannot grow the scrape without end.
 * Cells are looked up in nested maps by the strings the proxy already holds: nothing is built per request.
 */
import type { CounterCell, FastCounter, FastHistogram, HistogramCell } from './fast-series.js';

/** The route label of pairs past the cap. */
export const OTHER_ROUTE = '(other)';

interface RouteCells {
  readonly service: string;
  readonly route: string;
  readonly latency: HistogramCell;
  readonly serviceLatency: HistogramCell;
  readonly byStatus: Map<number, CounterCell>;
}

/**
 * @example
 * const series = new RequestSeries(requests, byService, byRoute, 2000);
 * series.record('orders', '/api/orders/:id', 200, 4.2);
 */
export class RequestSeries {
  readonly #requests: FastCounter;
  readonly #byService: FastHistogram;
  readonly #byRoute: FastHistogram;
  readonly #maxRoutes: number;
  readonly #routes = new Map<string, Map<string, RouteCells>>();
  readonly #serviceLatency = new Map<string, HistogramCell>();
  #pairs = 0;

  constructor(requests: FastCounter, byService: FastHistogram, byRoute: FastHistogram, maxRouteSeries: number) {
    this.#requests = requests;
    this.#byService = byService;
    this.#byRoute = byRoute;
    this.#maxRoutes = maxRouteSeries;
  }

  /** Counts one request; `durationMs` (when an upstream was reached) goes into both histograms. */
  record(service: string, route: string, status: number, durationMs: number | undefined): void {
    const cells = this.#cellsOf(service, route);
    let counter = cells.byStatus.get(status);
    if (counter === undefined) {
      counter = this.#requests.cell(cells.service, cells.route, String(status));
      cells.byStatus.set(status, counter);
    }
    counter.value++;
    if (durationMs === undefined) return;
    const seconds = durationMs / 1000;
    cells.latency.observe(seconds);
    cells.serviceLatency.observe(seconds);
  }

  /** Distinct (service, route) pairs with their own series (the `(other)` ones included). */
  get pairs(): number {
    return this.#pairs;
  }

  #cellsOf(service: string, route: string): RouteCells {
    let byRoute = this.#routes.get(service);
    if (byRoute === undefined) {
      byRoute = new Map();
      this.#routes.set(service, byRoute);
    }
    const known = byRoute.get(route);
    if (known !== undefined) return known;
    // Past the cap every new pattern shares its service's (other) series.
    const label = this.#pairs >= this.#maxRoutes ? OTHER_ROUTE : route;
    let cells = byRoute.get(label);
    if (cells === undefined) {
      cells = {
        service,
        route: label,
        latency: this.#byRoute.cell(service, label),
        serviceLatency: this.#serviceCell(service),
        byStatus: new Map(),
      };
      byRoute.set(label, cells);
      this.#pairs++;
    }
    // Overflowing patterns are not remembered one by one: each costs a second lookup instead.
    return cells;
  }

  #serviceCell(service: string): HistogramCell {
    let cell = this.#serviceLatency.get(service);
    if (cell === undefined) {
      cell = this.#byService.cell(service);
      this.#serviceLatency.set(service, cell);
    }
    return cell;
  }
}
