/**
 * Raw WebSocket upgrade proxying (README "Routing and proxying"): an upgrade request is routed like an HTTP GET
 * through the HTTP route table, pinned to one instance chosen by live connections, handed to
 * the instance with the same upgrade headers, and once it answers `101` both sockets are piped
 * for the connection's life ({@link RawTunnel}). Failures become coded JSON answers on the raw
 * socket: 400 bad path, 404 no route, 503 no healthy instance, 502 refused, 504 timed out; a
 * connect failure is retried once on another instance (nothing reached the first one).
 */
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { isIP, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { TimerHandle } from '../clock.js';
import { FleetgateError } from '../errors.js';
import type { ServiceInstance } from '../registry/model.js';
import { resolveRequest } from '../routing/resolve-request.js';
import type { RouteTable } from '../routing/route-table.js';
import { type RequestHeadInfo, viaEntry } from '../upstream/proxy-headers.js';
import {
  badPathError,
  classifyUpstreamError,
  isConnectFailure,
  noHealthyInstanceError,
  noRouteError,
  type UpstreamFailureKind,
  upstreamError,
} from '../upstream/upstream-error.js';
import { loopKindOf } from '../upstream/via.js';
import type { ConnectionRegistry, PinnedConnection } from './connection-registry.js';
import type { InstancePicker } from './instance-picker.js';
import { MessageBudget } from './message-budget.js';
import { relayRefusal, writeRawError } from './raw-response.js';
import { RawTunnel } from './raw-tunnel.js';
import { endpointOf, type UpstreamEndpoint, upgradeRequestHeaders } from './upstream-target.js';
import type { ResolvedWebSocketOptions } from './websocket-options.js';

/** A handshake with an instance in flight: counted for least-connections, evictable. */
class PendingHandshake implements PinnedConnection {
  constructor(
    readonly service: string,
    readonly instanceId: string,
    readonly abort: (error: FleetgateError) => void,
  ) {}

  evict(): void {
    this.abort(
      new FleetgateError('ERR_FG_UPSTREAM_CONNECT', `the ${this.service} instance left routing during the handshake`),
    );
  }
}

/** One client upgrade being routed. */
interface UpgradeCall {
  req: IncomingMessage;
  socket: Duplex;
  head: Buffer;
  /** Node's own error listener is gone from an upgraded socket; this one stands in until the tunnel starts. */
  onEarlyError: () => void;
  /** The path (and query) to request upstream. */
  upstreamPath: string;
  /** The upgrade request's headers for every instance tried, `Host` excepted. */
  headers: string[];
}

/** What the proxy shares with the rest of the gateway. */
export interface UpgradeProxyDeps {
  /** The HTTP route table. */
  table: RouteTable;
  picker: InstancePicker;
  connections: ConnectionRegistry;
  options: ResolvedWebSocketOptions;
}

/**
 * Routes and pipes raw WebSocket upgrades.
 * @example
 * const proxy = new UpgradeProxy({ table, picker, connections, options });
 * server.on('upgrade', (req, socket, head) => proxy.handle(req, socket, head));
 */
export class UpgradeProxy {
  readonly #deps: UpgradeProxyDeps;
  readonly #tunnels = new Set<RawTunnel>();
  readonly #pending = new Set<PendingHandshake>();
  #closed = false;
  #drained: (() => void) | undefined;

  constructor(deps: UpgradeProxyDeps) {
    this.#deps = deps;
  }

  /** Open tunnels. */
  get tunnels(): number {
    return this.#tunnels.size;
  }

  /** Upstream handshakes in flight. */
  get handshakes(): number {
    return this.#pending.size;
  }

  /** Routes one upgrade request; every outcome ends in a tunnel or an answer on `socket`. */
  handle(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    // Node removed its own error listener from an upgraded socket: without ours an ECONNRESET would crash.
    const onEarlyError = (): void => {
      socket.destroy();
    };
    socket.on('error', onEarlyError);
    if (this.#closed) {
      writeRawError(socket, new FleetgateError('ERR_FG_CLOSED', 'the WebSocket gateway is closed'));
      return;
    }
    const resolved = resolveRequest(this.#deps.table, 'GET', req.url ?? '/', req);
    if (resolved.kind === 'bad-path') {
      writeRawError(socket, badPathError(resolved.reason));
      return;
    }
    if (resolved.kind !== 'route') {
      writeRawError(socket, noRouteError('GET', resolved.path));
      return;
    }
    const { match } = resolved;
    // Read once, before any instance is chosen: a Via loop or two Host headers are refused here.
    const info: RequestHeadInfo = {
      requestId: '',
      contentLength: -1,
      chunked: false,
      expect: false,
      refusal: undefined,
    };
    const headers = upgradeRequestHeaders(req, this.#deps.options.forwarding, info);
    if (info.refusal !== undefined) {
      const loop = loopKindOf(info.refusal);
      if (loop !== undefined) this.#deps.options.metrics?.recordLoopDetected?.(loop);
      writeRawError(socket, info.refusal);
      return;
    }
    const call: UpgradeCall = { req, socket, head, onEarlyError, upstreamPath: match.upstreamPath, headers };
    if (match.target !== undefined) {
      const ep = endpointOf(match.target);
      if (ep === undefined) writeRawError(socket, invalidUrl(match.target));
      else this.#connect(call, '', match.target, ep, (err) => writeRawError(socket, err));
      return;
    }
    const service = match.service!;
    const candidates = this.#deps.table.instancesFor(match);
    const skip = new Set<string>();
    const attempt = (lastError: FleetgateError | undefined): void => {
      const sel = this.#deps.picker.pick(candidates, service, skip);
      const inst: ServiceInstance | undefined = sel.instance;
      if (inst === undefined) {
        writeRawError(socket, lastError ?? noHealthyInstanceError(service));
        return;
      }
      const ep = endpointOf(inst.url);
      if (ep === undefined) {
        writeRawError(socket, invalidUrl(`an instance of ${service}`));
        return;
      }
      this.#connect(call, service, inst.instanceId, ep, (err) => {
        skip.add(inst.instanceId);
        if (skip.size <= this.#deps.options.connectRetries && !socket.destroyed) attempt(err);
        else writeRawError(socket, err);
      });
    };
    attempt(undefined);
  }

  /** Heartbeat tick for every tunnel. */
  tick(): void {
    for (const t of this.#tunnels) t.tick();
  }

  /** Refuses new upgrades, aborts handshakes, closes tunnels with 1001; resolves when all are gone. */
  close(): Promise<void> {
    this.#closed = true;
    for (const p of [...this.#pending])
      p.abort(new FleetgateError('ERR_FG_CLOSED', 'the WebSocket gateway is closing'));
    for (const t of [...this.#tunnels]) t.close();
    if (this.#tunnels.size === 0) return Promise.resolve();
    return new Promise((resolve) => {
      this.#drained = resolve;
    });
  }

  /**
   * One attempt at `instanceId`: `onConnectFailure` is called (instead of answering) when
   * nothing reached the instance, so the caller may try another one.
   */
  #connect(
    call: UpgradeCall,
    service: string,
    instanceId: string,
    ep: UpstreamEndpoint,
    onConnectFailure: (err: FleetgateError) => void,
  ): void {
    const { picker, connections, options } = this.#deps;
    const { socket } = call;
    const target = `${service === '' ? '' : `${service}/`}${instanceId} (${ep.host})`;
    let settled = false;
    let connected = false;
    let timer: TimerHandle | undefined;
    const upstreamReq = (ep.secure ? httpsRequest : httpRequest)({
      hostname: ep.hostname,
      port: ep.port,
      path: ep.basePath + call.upstreamPath,
      method: 'GET',
      headers: [...call.headers, 'host', ep.host],
      agent: false,
      // SNI names a host; an IP address is not sent (RFC 6066).
      ...(ep.secure ? { ...(isIP(ep.hostname) === 0 ? { servername: ep.hostname } : {}), ...options.tlsConnect } : {}),
    });
    const settle = (): boolean => {
      if (settled) return false;
      settled = true;
      timer?.cancel();
      connections.remove(pending);
      this.#pending.delete(pending);
      socket.off('close', onClientGone);
      return true;
    };
    const fail = (error: FleetgateError): void => {
      if (!settle()) return;
      upstreamReq.destroy();
      writeRawError(socket, error);
    };
    const pending = new PendingHandshake(service, instanceId, fail);
    const onClientGone = (): void => {
      if (settle()) upstreamReq.destroy();
    };
    connections.add(pending);
    this.#pending.add(pending);
    socket.once('close', onClientGone);
    timer = options.clock.setTimeout(() => {
      if (!settle()) return;
      upstreamReq.destroy();
      const kind: UpstreamFailureKind = connected ? 'timeout' : 'connect-timeout';
      if (service !== '') picker.recordFailure(service, instanceId, !connected);
      const err = upstreamError(Object.assign(new Error('timeout'), { code: 'ETIMEDOUT' }), kind, target);
      if (connected) writeRawError(socket, err);
      else onConnectFailure(err);
    }, options.handshakeTimeoutMs);
    upstreamReq.on('socket', (s: Socket) => {
      s.once(ep.secure ? 'secureConnect' : 'connect', () => {
        connected = true;
      });
    });
    upstreamReq.on('upgrade', (res: IncomingMessage, upstream: Socket, upstreamHead: Buffer) => {
      if (!settle()) {
        upstream.destroy();
        return;
      }
      if (service !== '') picker.recordSuccess(service, instanceId);
      if (socket.destroyed || !socket.writable) {
        upstream.destroy();
        return;
      }
      socket.off('error', call.onEarlyError);
      const head = responseHead(res, this.#deps.options.forwarding.gatewayId);
      this.#startTunnel(socket, upstream, service, instanceId, call.head, head, upstreamHead);
    });
    upstreamReq.on('response', (res: IncomingMessage) => {
      if (!settle()) {
        res.destroy();
        return;
      }
      if (service !== '') picker.recordSuccess(service, instanceId);
      relayRefusal(socket, res);
      res.once('close', () => upstreamReq.destroy());
    });
    upstreamReq.on('error', (err: Error) => {
      if (!settle()) return;
      const kind = classifyUpstreamError(err);
      if (service !== '') picker.recordFailure(service, instanceId, isConnectFailure(kind));
      const error = upstreamError(err, kind, target);
      if (isConnectFailure(kind) || !connected) onConnectFailure(error);
      else writeRawError(socket, error);
    });
    upstreamReq.end();
  }

  #startTunnel(
    socket: Duplex,
    upstream: Socket,
    service: string,
    instanceId: string,
    head: Buffer,
    response: string,
    upstreamHead: Buffer,
  ): void {
    const { connections, options } = this.#deps;
    const now = options.clock.now();
    const tunnel = new RawTunnel(service, instanceId, socket, upstream, {
      maxPayload: options.maxPayload,
      budget:
        options.messagesPerSecond > 0
          ? new MessageBudget(options.messagesPerSecond, options.messageBurst, now, options.rateLimitStrikes)
          : undefined,
      clock: options.clock,
      closeTimeoutMs: options.closeTimeoutMs,
      onClosed: (t) => {
        connections.remove(t);
        this.#tunnels.delete(t);
        if (this.#tunnels.size === 0) this.#drained?.();
      },
    });
    this.#tunnels.add(tunnel);
    connections.add(tunnel);
    tunnel.start(head, response, upstreamHead);
    if (this.#closed) tunnel.close();
  }
}

/** 502: an instance (or static target) whose URL cannot be connected to. */
function invalidUrl(what: string): FleetgateError {
  // Names the service only: an instance's id and address stay out of client bodies.
  return new FleetgateError('ERR_FG_UPSTREAM_CONNECT', `${what} has no usable http(s) URL`);
}

/**
 * The `101` head for the client: the upstream's handshake headers byte for byte, except that its
 * `Connection` may nominate nothing but `Upgrade` (so it cannot strip the gateway's headers
 * downstream), plus `X-Gateway` and `Via`.
 */
function responseHead(res: IncomingMessage, gatewayId: string): string {
  let head = `HTTP/1.1 101 ${res.statusMessage || 'Switching Protocols'}\r\n`;
  const raw = res.rawHeaders;
  let via: string | undefined;
  for (let i = 0; i < raw.length; i += 2) {
    const lower = raw[i]!.toLowerCase();
    if (lower === 'connection') continue;
    if (lower === 'via') {
      via = via === undefined ? raw[i + 1] : `${via}, ${raw[i + 1]}`;
      continue;
    }
    head += `${raw[i]}: ${raw[i + 1]}\r\n`;
  }
  const entry = viaEntry('1.1', gatewayId);
  return `${head}Connection: Upgrade\r\nX-Gateway: fleetgate\r\nVia: ${via === undefined ? entry : `${via}, ${entry}`}\r\n\r\n`;
}
