/**
 * One client process of bench/scale.ts: registers its share of the fleet through the HTTP API
 * (keep-alive, a bounded number in flight), then heartbeats its instances at the rate the parent
 * asks for. Says `{ready: true}` once loaded, then talks to the parent over IPC: `{cmd:'register', slice, slices}` (registers the
 * `slice`-th of `slices` equal parts of its share, in order, so the parent can price the first
 * and the last thousand registrations apart), `{cmd:'heartbeat', ratePerSec, seconds, base?}`
 * (`base`: another server to send the same heartbeats to, e.g. one of the floor servers).
 * Every answer carries the client's own CPU for the command (`cpuUs`), so the bench can say
 * whether the gateway or its clients bound a phase. Registrations are prepared as request bytes
 * at start and sent over bench/lib/raw-http.ts (16 keep-alive connections), so a registration
 * costs the client a write and a read; undici's client cost about as much CPU as the gateway's
 * handling of the registration.
 * One undici Agent per target keeps its connections alive between heartbeats, as the SDK's
 * (lib/client/gateway-api.ts) does.
 */
import { Agent, request } from 'undici';
import { RawHttpConnection, rawPost } from './raw-http.js';
import { registrationBody } from './scale-fleet.js';

const IN_FLIGHT = 16;

/** What a command answers: counts, the first error and the client's CPU for it (µs). */
export interface ClientReply {
  ok: number;
  failed: number;
  firstError?: string;
  cpuUs: number;
}

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
    const res = await request(`${target}/internal/services/${h.service}/instances/${h.id}/heartbeat`, {
      method: 'PUT',
      headers: { 'x-instance-token': h.token },
      dispatcher: target === base ? dispatcher : floorDispatcher,
    });
    await res.body.dump();
    if (res.statusCode !== 200) throw new Error(`heartbeat ${res.statusCode}`);
  };

  type Msg = { cmd: string; slice?: number; slices?: number; ratePerSec?: number; seconds?: number; base?: string };
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
      // Paced: the k-th heartbeat leaves at start + k / rate, round-robin over the instances held.
      // A client whose registrations all failed has nothing to renew.
      const count = held.length === 0 ? 0 : Math.round(msg.ratePerSec! * msg.seconds!);
      const start = performance.now();
      let next = 0;
      const jobs = Array.from({ length: count }, (_, k) => k);
      const r = await pool(jobs, IN_FLIGHT * 4, async (k) => {
        const due = start + (k * 1000) / msg.ratePerSec!;
        const wait = due - performance.now();
        if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
        await heartbeat(held[next++ % held.length]!, msg.base ?? base);
      });
      reply(r);
    }
  });
  process.on('disconnect', () => process.exit(0));
  // Loaded and its bodies built: the parent starts no clock before every client says so.
  process.send!({ ready: true });
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
