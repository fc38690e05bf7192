/**
 * Pages of `GET /internal/services`: instances in (service, instance id) order, filtered by
 * `?service=` and `?status=`, at most `?limit=` per page, resumed after an opaque `?cursor=` that
 * names the last key served. An instance present for the whole walk is served exactly once,
 * whatever joins or leaves meanwhile; one that joins behind the cursor is not served.
 */
import { FleetgateError } from '../../errors.js';
import { INSTANCE_STATUSES, type InstanceStatus, type ServiceInstance } from '../model.js';
import type { RegistryApi } from '../registry-api.js';

/** Instances per page when `limit` is absent. @default 500 */
export const DEFAULT_PAGE_SIZE = 500;
/** Largest `limit` accepted. */
export const MAX_PAGE_SIZE = 5000;

/** One page request, parsed from the query. */
export interface ListingQuery {
  service: string | undefined;
  status: InstanceStatus | undefined;
  limit: number;
  /** Serve keys strictly after this (service, instance id). */
  after: [service: string, instanceId: string] | undefined;
}

/** One page: the instances and the cursor of the next page, if any. */
export interface ListingPage {
  instances: ServiceInstance[];
  nextCursor: string | undefined;
}

/**
 * Parses `service`, `status`, `limit` and `cursor`.
 * @throws FleetgateError `ERR_FG_INVALID_QUERY` (400) naming the parameter.
 */
export function parseListingQuery(params: URLSearchParams): ListingQuery {
  const bad = (name: string, value: string, expected: string): never => {
    throw new FleetgateError('ERR_FG_INVALID_QUERY', `query parameter ${name}=${value} is invalid: ${expected}`, {
      details: { parameter: name, expected },
    });
  };
  const service = params.get('service') ?? undefined;
  const statusRaw = params.get('status');
  let status: InstanceStatus | undefined;
  if (statusRaw !== null) {
    status = statusRaw.toUpperCase() as InstanceStatus;
    if (!INSTANCE_STATUSES.includes(status)) bad('status', statusRaw, INSTANCE_STATUSES.join('|'));
  }
  const limitRaw = params.get('limit');
  let limit = DEFAULT_PAGE_SIZE;
  if (limitRaw !== null) {
    limit = Number(limitRaw);
    if (!/^\d+$/.test(limitRaw) || limit < 1 || limit > MAX_PAGE_SIZE)
      bad('limit', limitRaw, `an integer from 1 to ${MAX_PAGE_SIZE}`);
  }
  const cursorRaw = params.get('cursor');
  let after: ListingQuery['after'];
  if (cursorRaw !== null && cursorRaw !== '') {
    after = decodeCursor(cursorRaw) ?? bad('cursor', cursorRaw, 'a next_cursor value from a previous page');
  }
  return { service, status, limit, after };
}

/** Reads one page from the registry's cache: O(services · log services + the page's services). */
export function listingPage(registry: RegistryApi, q: ListingQuery): ListingPage {
  const names = q.service === undefined ? registry.services().sort(compare) : [q.service];
  let i = q.after === undefined ? 0 : lowerBound(names, q.after[0]);
  const out: ServiceInstance[] = [];
  for (; i < names.length; i++) {
    const name = names[i]!;
    let list = registry.instances(name);
    if (q.status !== undefined) list = list.filter((inst) => inst.status === q.status);
    list.sort((a, b) => compare(a.instanceId, b.instanceId));
    let j = 0;
    if (q.after !== undefined && name === q.after[0]) {
      const afterId = q.after[1];
      while (j < list.length && compare(list[j]!.instanceId, afterId) <= 0) j++;
    }
    for (; j < list.length; j++) {
      if (out.length === q.limit) {
        const last = out[out.length - 1]!;
        return { instances: out, nextCursor: encodeCursor(last.service, last.instanceId) };
      }
      out.push(list[j]!);
    }
  }
  return { instances: out, nextCursor: undefined };
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** First index whose name is ≥ `name`. */
function lowerBound(sorted: readonly string[], name: string): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid]! < name) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function encodeCursor(service: string, instanceId: string): string {
  return Buffer.from(JSON.stringify([service, instanceId])).toString('base64url');
}

function decodeCursor(raw: string): [string, string] | undefined {
  if (raw.length > 1024 || !/^[A-Za-z0-9_-]+$/.test(raw)) return undefined;
  try {
    const v: unknown = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8'));
    return Array.isArray(v) && v.length === 2 && typeof v[0] === 'string' && typeof v[1] === 'string'
      ? [v[0], v[1]]
      : undefined;
  } catch {
    return undefined;
  }
}
