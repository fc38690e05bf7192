/**
 * What the message router would do with a client frame for a path (`explain` for WebSocket
 * message routes; Eurus' `CanServePath`): the same steps as routing a frame (normalise, match the
 * `protocol: 'ws'` table, the public check, candidates, the least-connections pick) without
 * pinning anything or moving the live balancer.
 */

import type { ErrorCode } from '../errors.js';
import type { InstanceStatus } from '../registry/model.js';
import { resolveRequest } from '../routing/resolve-request.js';
import type { RouteTable } from '../routing/route-table.js';
import type { ExclusionReason } from '../routing/types.js';
import type { ConnectionRegistry } from './connection-registry.js';
import type { InstancePicker } from './instance-picker.js';

/** The answer of {@link explainMessagePath}. */
export interface MessageExplainResult {
  /** Always true: tells this answer from an HTTP explain. */
  ws: true;
  /** The path as asked. */
  path: string;
  /** The path after normalisation, or null when it was refused (see `refusal`). */
  normalizedPath: string | null;
  match: {
    pattern: string;
    service: string | null;
    isStatic: boolean;
    /** Reachable by clients: registered `public: true`, or a static gateway route. */
    public: boolean;
    params: Record<string, string>;
  } | null;
  /** Whether a client frame to this path would reach an instance now (Eurus `CanServePath`). */
  servable: boolean;
  /** The error frame a client would get instead, when not servable. */
  refusal?: { code: ErrorCode; message: string };
  /** Live instances serving the route, with the connections pinned to each. */
  candidates: {
    instanceId: string;
    url: string;
    status: InstanceStatus;
    weight: number;
    connections: number;
  }[];
  excluded: { instanceId: string; reason: ExclusionReason }[];
  /** The instance a new client would be pinned to now (a client already pinned keeps its own). */
  chosen?: { instanceId: string; url: string };
}

/**
 * Explains how a message frame for `path` would be routed.
 * @example explainMessagePath(router.table, picker, connections, '/chat/join').servable // true
 */
export function explainMessagePath(
  table: RouteTable,
  picker: InstancePicker,
  connections: ConnectionRegistry,
  path: string,
): MessageExplainResult {
  const empty = { ws: true as const, path, match: null, servable: false, candidates: [], excluded: [] };
  const norm = resolveRequest(table, 'GET', path);
  if (norm.kind === 'bad-path') {
    return {
      ...empty,
      normalizedPath: null,
      refusal: { code: 'ERR_FG_INVALID_BODY', message: `bad message path: ${norm.reason}` },
    };
  }
  const hit = norm.kind === 'route' ? norm.match : undefined;
  if (hit === undefined || hit.service === undefined) {
    return {
      ...empty,
      normalizedPath: norm.path,
      refusal: { code: 'ERR_FG_NO_ROUTE', message: `no message route for ${norm.path}` },
    };
  }
  const service = hit.service;
  const isPublic = hit.isStatic || hit.route.public === true;
  const match = { pattern: hit.pattern, service, isStatic: hit.isStatic, public: isPublic, params: hit.params };
  const serving = table.instancesFor(hit);
  const sel = picker.preview(serving, service);
  const chosen = sel.instance;
  const refusal: MessageExplainResult['refusal'] = !isPublic
    ? { code: 'ERR_FG_FORBIDDEN', message: `message route ${hit.pattern} is not public` }
    : chosen === undefined
      ? { code: 'ERR_FG_NO_HEALTHY_INSTANCE', message: `no healthy instance of ${service}` }
      : undefined;
  return {
    ...empty,
    normalizedPath: norm.path,
    match,
    servable: refusal === undefined,
    ...(refusal === undefined ? {} : { refusal }),
    candidates: serving.map((i) => ({
      instanceId: i.instanceId,
      url: i.url,
      status: i.status,
      weight: i.weight,
      connections: connections.count(service, i.instanceId),
    })),
    excluded: sel.excluded,
    ...(chosen === undefined ? {} : { chosen: { instanceId: chosen.instanceId, url: chosen.url } }),
  };
}
