/**
 * What the dashboard page renders: one snapshot shape for the gateway's dashboard and the
 * sandbox's (which fills the optional process and gateway fields). Sent as JSON and over the
 * event stream; the page script (lib/dashboard/page-script.ts) reads nothing else.
 */
import type { ServiceSeries } from './request-stats.js';

export type { ServiceSeries } from './request-stats.js';

/** A status an instance entered at `at` (ms since the epoch); `ABSENT` = not in the registry. */
export interface StatusMark {
  at: number;
  status: string;
}

/** One instance row. */
export interface DashboardInstance {
  instanceId: string;
  /** Registry status: `UP`, `DOWN`, `UNKNOWN`, `DRAINING`, or `ABSENT` (the sandbox's crashed processes). */
  status: string;
  url: string | undefined;
  /** ISO time of the last heartbeat. */
  lastHeartbeat: string | undefined;
  epoch: number | undefined;
  version: string | undefined;
  zone: string | undefined;
  /** How it joined when not natively: `eureka` or `consul` (`metadata.origin`). */
  origin: string | undefined;
  /** Status changes within the history window, oldest first; the first is the status in force at its start. */
  history: StatusMark[];
  /** Sandbox only: the process state (`running`, `crashed`, …), its pid, and its own request rate. */
  process?: string | undefined;
  pid?: number | undefined;
  rps?: number | undefined;
  /** Sandbox only: started by the sandbox, so it has Crash/Restart buttons. */
  managed?: boolean;
}

/** One service block. */
export interface DashboardService {
  name: string;
  /** Instances listed (at most the snapshot's per-service cap). */
  instances: DashboardInstance[];
  /** Live instances in total, and how many are UP. */
  total: number;
  up: number;
  /** Request rate, error rate and p50/p99 per second, oldest first. */
  series: ServiceSeries | undefined;
}

/** One line of the recent-events column. */
export interface DashboardEvent {
  /** ms since the epoch. */
  at: number;
  /** `registry` for registry changes; the sandbox adds `process`, `action`, `drill`. */
  kind: string;
  /** The instance or service it is about. */
  target: string;
  level: 'info' | 'good' | 'warn' | 'bad';
  message: string;
}

/** A gateway card (sandbox only: a real gateway shows itself in the header). */
export interface DashboardGateway {
  name: string;
  url: string | undefined;
  pid: number | undefined;
  health: string;
  registryType: string | undefined;
  connected: boolean | undefined;
  reason: string | undefined;
  history: string[];
}

/** Everything the page shows. */
export interface DashboardSnapshot {
  /** ms since the epoch when it was built. */
  at: number;
  /** Header line: backend, gateway name, counts. */
  meta: string;
  /** Seconds of history the sparklines cover. */
  windowSeconds: number;
  services: DashboardService[];
  /** Services in the registry in total (more than `services.length` when capped). */
  totalServices: number;
  /** Requests per second over all services in the last whole second. */
  totalRps: number;
  /** Newest last. */
  events: DashboardEvent[];
  /** Sandbox only. */
  gateways?: DashboardGateway[];
  /** Sandbox only: the store process. */
  store?: { name: string; url: string; running: boolean } | undefined;
}
