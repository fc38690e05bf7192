/**
 * What each conformance case receives, and the case shape itself.
 */
import { randomUUID } from 'node:crypto';
import type { RegistrationInput, RegistryBackend, RegistryEvent, RegistryWatcher } from '../registry/model.js';
import { waitFor } from './wait-for.js';

/** Settings shared by every case of one suite run. */
export interface SuiteSettings {
  /** Lease TTL used by the expiry cases, in ms (real time). */
  ttlMs: number;
  /** Extra time a backend may take beyond the TTL to report an expiry, in ms. */
  expiryGraceMs: number;
  /** Deadline for each case, in ms. */
  timeoutMs: number;
}

/** A fresh backend and helpers for one case. */
export interface CaseContext extends SuiteSettings {
  backend: RegistryBackend;
  /** A second backend on the same store as `backend` (another gateway); the suite closes it. */
  peer(): Promise<RegistryBackend>;
  /** A service name unique to this case, so cases can share one real store. */
  service(label?: string): string;
  /** A minimal registration for `service`. */
  input(service: string, extra?: Partial<RegistrationInput>): RegistrationInput;
  /** A long lease for the cases that must not expire while they run. */
  lease: { ttlMs: number };
  /** Records watch events of this case's services (everything else on a shared store is ignored). */
  record(): EventRecorder;
}

/** Watch events collected for one case. */
export interface EventRecorder {
  events: RegistryEvent[];
  /** Stops recording. */
  stop(): void;
  /** Waits until `pred` holds for the recorded events. */
  until(pred: (events: RegistryEvent[]) => boolean, description: string, timeoutMs?: number): Promise<void>;
}

/** One conformance case. */
export interface ConformanceCase {
  name: string;
  /** A capability the case needs; it is only registered when the suite expects the capability. */
  needs?: 'setStatus';
  run(ctx: CaseContext): Promise<void>;
}

/** Builds the context of one case around a fresh backend. */
export function caseContext(
  backend: RegistryBackend,
  settings: SuiteSettings,
  peer: () => Promise<RegistryBackend> = async () => backend,
): CaseContext {
  const run = randomUUID().slice(0, 8);
  const services = new Set<string>();
  const ctx: CaseContext = {
    ...settings,
    backend,
    peer,
    lease: { ttlMs: Math.max(60_000, settings.timeoutMs * 2) },
    service(label = 'svc') {
      const name = `conf-${run}-${label}`;
      services.add(name);
      return name;
    },
    input(service, extra = {}) {
      return { service, url: 'http://127.0.0.1:7812', ...extra };
    },
    record() {
      const events: RegistryEvent[] = [];
      const watcher: RegistryWatcher = (event) => {
        if (event.type !== 'resync' && services.has(event.service)) events.push(event);
      };
      const stop = backend.watch(watcher);
      return {
        events,
        stop,
        async until(pred, description, timeoutMs = settings.timeoutMs / 2) {
          try {
            await waitFor(() => pred(events), { timeoutMs, intervalMs: 10, description });
          } catch (err) {
            const seen = events.map((e) => `${e.type}:${e.instanceId}`).join(', ');
            throw new Error(`${(err as Error).message}; watch events seen: [${seen}]`, { cause: err });
          }
        },
      };
    },
  };
  return ctx;
}
