/**
 * One client process of bench/scale.ts: registers its share of the fleet through the HTTP API
 * (keep-alive, a bounded number in flight), then heartbeats its instances at the rate the parent
 * asks for. Says `{ready: true}` once loaded, then talks to the parent over IPC: `{cmd:'register', slice, slices}` (registers the
 * `slice`-th of `slices` equal parts of its share, in order, so the parent can price the first
 * and the last thousand registrations apart), `{cmd:'heartbeat', ratePerSec, seconds, base?, form?}`
 * (`base`: another server to send the same heartbeats to, e.g. one of the floor servers; `form`:
 * how they travel, see {@link HeartbeatForm}), `{cmd:'open-idle', count}` (opens `count`
 * keep-alive connections to the gateway, one heartbeat each, and leaves them open: an SDK fleet
 * whose sockets outlive the interval), `{cmd:'close-idle'}` and `{cmd:'renew'}` (one warm
 * heartbeat to the gateway for every instance held, unpaced).
 * Every answer carries the client's own CPU for the command (`cpuUs`), so the bench can say
 * whether the gateway or its clients bound a phase. Registrations are prepared as request bytes
 * at start and sent over bench/lib/raw-http.ts (16 keep-alive connections), so a registration
 * costs the client a write and a read; undici's client cost about as much CPU as the gateway's
 * handling of the registration.
 * One undici Agent per target keeps its connections alive between heartbeats, as the SDK's
 * (lib/client/gateway-api.ts) does while its requests come close together; at a real 30 s
 * interval its socket is gone (lib/client/register-service.keepalive.test.ts), which the
 * `fresh` form prices.
 */
import { Agent, request } from 'undici';
import { RawHttpConnection, rawPost, rawPut } from './raw-http.js';
import { registrationBody } from './scale-fleet.js';

const IN_FLIGHT = 16;

/** What a command answers: counts, the first error and the client's CPU for it (µs). */
export interface ClientReply {
  ok: number;
  failed: number;
  firstError?: string;
  cpuUs: number;
  /** TCP connections the command opened over the `open-idle` ones (heartbeats of the `idle` form). */
  reconnects?: number;
}

/**
 * How a heartbeat travels: `warm` over the client's undici keep-alive connections (16 busy ones
 * per target), `fresh` on a new TCP connection that the client closes once answered (what an SDK
 * heartbeat after a 30 s idle interval does), `idle` on the next of the connections `open-idle`
 * opened (each instance's own warm socket, idle between its heartbeats).
 */
export type HeartbeatForm = 'warm' | 'fresh' | 'idle';

interface Held {
  service: string;
  id: string;
  token: string;
}

/** Runs the client loop in this (forked) process. */
export function runClient(): void {
  const base = process.env.SCALE_BASE!;
  const index = Number(process.env.SCALE_INDEX);
  const clients = Number(process.env.SCALE_CLIENTS);
  const total = Number(process.env.SCALE_TOTAL);
  const services = Number(process.env.SCALE_SERVICES);
  const perService = total / services;
  const dispatcher = new Agent({ connections: IN_FLIGHT, keepAliveTimeout: 60_000 });
  const floorDispatcher = new Agent({ connections: IN_FLIGHT, keepAliveTimeout: 60_000 });
  const held: Held[] = [];
  const mine: [number, number][] = [];
  for (let s = index; s < services; s += clients) for (let i = 0; i < perService; i++) mine.push([s, i]);
  // Registrations go over bench/lib/raw-http.ts: prepared bytes, so the clients cost little CPU.
  const target = new URL(base);
  const lanes = Array.from({ length: IN_FLIGHT }, () => new RawHttpConnection(target.hostname, Number(target.port)));
  const requests = mine.map(([s, i]) => rawPost(target.host, '/internal/register-service', registrationBody(s, i)));
  const TOKEN = /"instance_token":"([^"]+)"/;

  const register = async (k: number, lane: number): Promise<void> => {
    const [s, i] = mine[k]!;
    const res = await lanes[lane]!.send(requests[k]!);
    const text = res.body;
    if (res.status !== 200) throw new Error(`${res.status} ${text.slice(0, 200)}`);
    const token = TOKEN.exec(text)?.[1];
    if (token === undefined) throw new Error(`no instance_token in ${text.slice(0, 200)}`);
    held.push({ service: `svc${s}`, id: `svc${s}-${i}`, token });
  };

  const heartbeat = async (h: Held, target: string): Promise<void> => {
    const res = await request(`${target}${heartbeatPath(h)}`, {
      method: 'PUT',
      headers: { 'x-instance-token': h.token },
      dispatcher: target === base ? dispatcher : floorDispatcher,
    });
    await res.body.dump();
    if (res.statusCode !== 200) throw new Error(`heartbeat ${res.statusCode}`);
  };

  // A heartbeat on a connection of its own: connect, send, read the answer, close (FIN first, as
  // undici's idle timeout does).
  const freshHeartbeat = async (h: Held, target: string): Promise<void> => {
    const url = new URL(target);
    const connection = new RawHttpConnection(url.hostname, Number(url.port));
    try {
      const res = await connection.send(rawPut(url.host, heartbeatPath(h), { 'x-instance-token': h.token }));
      if (res.status !== 200) throw new Error(`heartbeat ${res.status}`);
    } finally {
      connection.close();
    }
  };

  // Connections left open after a heartbeat each: socket k carries instance k's heartbeats.
  const idle: RawHttpConnection[] = [];
  const idleHeartbeat = async (k: number): Promise<void> => {
    const h = held[k % held.length]!;
    const res = await idle[k]!.send(rawPut(target.host, heartbeatPath(h), { 'x-instance-token': h.token }));
    if (res.status !== 200) throw new Error(`heartbeat ${res.status}`);
  };

  // Where each target's heartbeats go on: the next instance (or idle connection) in turn.
  const cursors = new Map<string, number>();
  const idleOpened = (): number => idle.reduce((n, c) => n + c.opened, 0);

  type Msg = {
    cmd: string;
    slice?: number;
    slices?: number;
    ratePerSec?: number;
    seconds?: number;
    base?: string;
    form?: HeartbeatForm;
    count?: number;
  };
  process.on('message', async (msg: Msg) => {
    const cpu0 = process.cpuUsage();
    const reply = (r: Omit<ClientReply, 'cpuUs'>): void => {
      const used = process.cpuUsage(cpu0);
      process.send!({ ...r, cpuUs: used.user + used.system } satisfies ClientReply);
    };
    if (msg.cmd === 'register') {
      const slices = msg.slices ?? 1;
      const slice = msg.slice ?? 0;
      const from = Math.floor((slice * mine.length) / slices);
      const to = Math.floor(((slice + 1) * mine.length) / slices);
      reply(
        await pool(
          Array.from({ length: to - from }, (_, k) => from + k),
          IN_FLIGHT,
          register,
        ),
      );
    } else if (msg.cmd === 'heartbeat') {
      // Paced: the k-th heartbeat leaves at start + k / rate, round-robin over the instances held,
      // each target's turn going on where its last command stopped (a round shorter than the fleet
      // must not renew the same first instances each time and let the rest expire).
      // A client whose registrations all failed has nothing to renew.
      const form = msg.form ?? 'warm';
      const none = held.length === 0 || (form === 'idle' && idle.length === 0);
      const count = none ? 0 : Math.round(msg.ratePerSec! * msg.seconds!);
      const start = performance.now();
      const to = msg.base ?? base;
      const jobs = Array.from({ length: count }, (_, k) => k);
      const opened0 = idleOpened();
      const r = await pool(jobs, IN_FLIGHT * 4, async (k) => {
        const due = start + (k * 1000) / msg.ratePerSec!;
        const wait = due - performance.now();
        if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
        const n = cursors.get(to) ?? 0;
        cursors.set(to, n + 1);
        if (form === 'idle') await idleHeartbeat(n % idle.length);
        else if (form === 'fresh') await freshHeartbeat(held[n % held.length]!, to);
        else await heartbeat(held[n % held.length]!, to);
      });
      reply(form === 'idle' ? { ...r, reconnects: idleOpened() - opened0 } : r);
    } else if (msg.cmd === 'open-idle') {
      const from = idle.length;
      const count = held.length === 0 ? 0 : msg.count!;
      for (let k = 0; k < count; k++) idle.push(new RawHttpConnection(target.hostname, Number(target.port)));
      reply(
        await pool(
          Array.from({ length: count }, (_, k) => from + k),
          IN_FLIGHT * 4,
          idleHeartbeat,
        ),
      );
    } else if (msg.cmd === 'renew') {
      // Every instance held, once, to the gateway: a phase that follows a long one starts with a live fleet.
      reply(await pool(held, IN_FLIGHT, (h) => heartbeat(h, base)));
    } else if (msg.cmd === 'close-idle') {
      for (const c of idle.splice(0)) c.close();
      reply({ ok: 0, failed: 0 });
    }
  });
  process.on('disconnect', () => process.exit(0));
  // Loaded and its bodies built: the parent starts no clock before every client says so.
  process.send!({ ready: true });
}

function heartbeatPath(h: Held): string {
  return `/internal/services/${h.service}/instances/${h.id}/heartbeat`;
}

/** Runs `fn` over `items` with at most `width` in flight (`lane`: which of them); counts successes and failures. */
async function pool<T>(
  items: readonly T[],
  width: number,
  fn: (item: T, lane: number) => Promise<void>,
): Promise<{ ok: number; failed: number; firstError?: string }> {
  let at = 0;
  let ok = 0;
  let failed = 0;
  let firstError: string | undefined;
  const lane = async (_: unknown, index: number): Promise<void> => {
    while (at < items.length) {
      const item = items[at++]!;
      try {
        await fn(item, index);
        ok++;
      } catch (err) {
        failed++;
        firstError ??= (err as Error).message;
      }
    }
  };
  await Promise.all(Array.from({ length: width }, lane));
  return firstError === undefined ? { ok, failed } : { ok, failed, firstError };
}
