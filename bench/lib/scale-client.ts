/**
 * One client process of bench/scale.ts: registers its share of the fleet through the HTTP API
 * (keep-alive, a bounded number in flight), then heartbeats its instances at the rate the parent
 * asks for. Talks to the parent over IPC: `{cmd:'register'}`, `{cmd:'heartbeat', ratePerSec, seconds, base?}`
 * (`base`: another server to send the same heartbeats to, e.g. one of the floor servers).
 * One undici Agent per target keeps its connections alive between heartbeats, as the SDK's
 * (lib/client/gateway-api.ts) does.
 */
import { Agent, request } from 'undici';

/** The five routes of service `s` (the same shapes as bench/route-lookup.ts). */
export function routesOf(s: number): { method: string; path: string }[] {
  return [
    { method: 'GET', path: `/api/svc${s}/items` },
    { method: 'POST', path: `/api/svc${s}/items` },
    { method: 'GET', path: `/api/svc${s}/items/:id` },
    { method: '*', path: `/api/svc${s}/items/:id/comments/*` },
    { method: 'GET', path: `/svc${s}/assets/**` },
  ];
}

const IN_FLIGHT = 16;

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

  const register = async ([s, i]: [number, number]): Promise<void> => {
    const res = await request(`${base}/internal/register-service`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        service: `svc${s}`,
        instance_id: `svc${s}-${i}`,
        url: `http://127.0.0.1:${10_000 + i}`,
        health_endpoint: '/health',
        routes: routesOf(s),
        metadata: { zone: 'a' },
      }),
      dispatcher,
    });
    const body = (await res.body.json()) as { instance_token?: string; error?: { code: string } };
    if (res.statusCode !== 200) throw new Error(`${res.statusCode} ${body.error?.code}`);
    held.push({ service: `svc${s}`, id: `svc${s}-${i}`, token: body.instance_token! });
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

  process.on('message', async (msg: { cmd: string; ratePerSec?: number; seconds?: number; base?: string }) => {
    if (msg.cmd === 'register') {
      const r = await pool(mine, IN_FLIGHT, register);
      process.send!(r);
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
      process.send!(r);
    }
  });
  process.on('disconnect', () => process.exit(0));
}

/** Runs `fn` over `items` with at most `width` in flight; counts successes and failures. */
async function pool<T>(
  items: readonly T[],
  width: number,
  fn: (item: T) => Promise<void>,
): Promise<{ ok: number; failed: number; firstError?: string }> {
  let at = 0;
  let ok = 0;
  let failed = 0;
  let firstError: string | undefined;
  const lane = async (): Promise<void> => {
    while (at < items.length) {
      const item = items[at++]!;
      try {
        await fn(item);
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
