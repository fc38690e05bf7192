/**
 * The registry store's health, read at scrape time: `fleetgate_registry_store_up` (answering and
 * in sync, as /health reports it), `fleetgate_registry_store_live` (the liveness probe's verdict),
 * `fleetgate_registry_store_probe_rtt_seconds` (the last answered probe's round trip) and
 * `fleetgate_registry_store_last_success_age_seconds` (since the store last answered a probe or a
 * call). docs/health.md, "Store liveness"; docs/metrics.md.
 */
import { Gauge, type Registry } from 'prom-client';
import type { RegistryApi } from '../registry/registry-api.js';

/** Registers the store gauges in `promRegistry`, reading the registry `current()` names at every scrape. */
export function storeMetrics(promRegistry: Registry, current: () => RegistryApi | undefined): void {
  const registers = [promRegistry];
  const liveness = () => current()?.storeLiveness?.();
  new Gauge({
    name: 'fleetgate_registry_store_up',
    help: 'Whether the registry store answers and is in sync (1) or not (0), as /health reports it.',
    registers,
    collect() {
      const registry = current();
      this.set(registry === undefined || registry.health().connected ? 1 : 0);
    },
  });
  new Gauge({
    name: 'fleetgate_registry_store_live',
    help: 'Whether the store answers its liveness probe (1; also while resyncing) or not (0). Unprobed stores (in-memory) are 1.',
    registers,
    collect() {
      this.set(liveness()?.live === false ? 0 : 1);
    },
  });
  new Gauge({
    name: 'fleetgate_registry_store_probe_rtt_seconds',
    help: 'Round trip of the last answered store liveness probe (Redis PING, an etcd read), in seconds.',
    registers,
    collect() {
      this.reset();
      const ms = liveness()?.lastRoundTripMs;
      if (ms !== undefined) this.set(ms / 1000);
    },
  });
  new Gauge({
    name: 'fleetgate_registry_store_last_success_age_seconds',
    help: 'Seconds since the registry store last answered (a liveness probe or a store call).',
    registers,
    collect() {
      this.reset();
      const ms = liveness()?.lastSuccessAgeMs;
      if (ms !== undefined) this.set(ms / 1000);
    },
  });
}
