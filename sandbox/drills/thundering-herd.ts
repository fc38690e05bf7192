/**
 * Drill `thundering-herd`: register a herd of lightweight instances (in this process, all
 * pointing at one tiny HTTP server), then make the registry forget them all at once (memory:
 * restart the gateway; Redis/etcd: flush the store). Every one must come back by itself, none
 * lost, and the spread of their return times must show jitter rather than one synchronised wave.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { httpStatusOf } from '../../lib/client/gateway-api.js';
import { registerService, type ServiceRegistration } from '../../lib/client/index.js';
import { check, type Drill, type DrillCheck, numberParam, stringParam } from './drill.js';
import { drillDescription } from './drill-names.js';
import { listFleet, liveProcesses, waitFor } from './fleet-probe.js';

/** The thundering-herd drill. */
export const thunderingHerdDrill: Drill = {
  name: 'thundering-herd',
  description: drillDescription('thundering-herd'),
  async run({ client, state, fleet, params, log }) {
    const size = Math.max(1, Math.min(2000, Math.round(numberParam(params, 'size', 200))));
    const service = stringParam(params, 'service') ?? 'herd';
    const heartbeat = Math.round(fleet.gateway.ttlMs / 3);
    const deadline = numberParam(params, 'deadline', 60_000);
    const { gatewayUrls } = await liveProcesses(client);

    // One tiny server answers for the whole herd (health checks included).
    const server = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"status":"UP"}');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const handles: ServiceRegistration[] = [];
    const back = new Map<string, number>();
    let t0 = 0;
    let armed = false;
    let rateLimited = 0;
    const checks: DrillCheck[] = [];
    const listed = async (): Promise<number[]> => {
      const listing = await listFleet(gatewayUrls);
      return [...listing.values()].map((m) => [...(m?.values() ?? [])].filter((i) => i.service === service).length);
    };
    try {
      const setup = Date.now();
      for (let i = 1; i <= size; i++) {
        const id = `${service}-${String(i).padStart(4, '0')}`;
        const h = registerService({
          gateway: gatewayUrls[i % gatewayUrls.length] as string,
          service,
          instanceId: id,
          url,
          healthEndpoint: '/health',
          routes: [{ method: 'GET', path: `/${service}/**` }],
          requestTimeoutMs: 3000,
        });
        h.on('reregistered', () => {
          if (armed && !back.has(id)) back.set(id, Date.now());
        });
        h.on('registration-failed', (err) => {
          if (httpStatusOf(err) === 429) rateLimited++;
        });
        handles.push(h);
      }
      const registered = await waitFor(async () => (await listed()).every((n) => n === size), deadline);
      if (registered === undefined) {
        checks.push(
          check('the herd registers', false, `${(await listed()).join('/')} of ${size} listed after ${deadline} ms`),
        );
        return { checks };
      }
      log(
        `${size} instances of ${service} registered in ${Date.now() - setup} ms` +
          (rateLimited > 0 ? ` (${rateLimited} attempts answered 429 by the registration rate limit)` : ''),
      );
      rateLimited = 0;
      armed = true;

      // Times count from the moment the registry is empty and reachable again.
      if (state.backend === 'memory') {
        const r = await client.call<{ ms: number }>('restart', { target: 'gateway-1' });
        t0 = Date.now();
        log(`restarted gateway-1 in ${r.ms} ms: its in-memory registry is empty`);
      } else {
        await client.call('store', { action: 'flush' });
        t0 = Date.now();
        log(`flushed the ${state.backend} store: every registration deleted at once`);
      }
      const allBack = await waitFor(
        async () => back.size === size && (await listed()).every((n) => n === size),
        deadline,
      );
      const counts = await listed();
      const lost = size - Math.min(...counts);
      checks.push(
        check(
          'none lost',
          allBack !== undefined && lost === 0,
          `${Math.min(...counts)}/${size} listed on every gateway${allBack === undefined ? ` after ${deadline} ms` : ''}`,
        ),
      );
      // Re-registrations that landed before the restart call returned count as immediate.
      const times = [...back.values()].map((at) => Math.max(0, at - t0)).sort((a, b) => a - b);
      if (times.length > 0) {
        const first = times[0] as number;
        const last = times.at(-1) as number;
        const pct = (p: number) => times[Math.min(times.length - 1, Math.floor(p * times.length))] as number;
        log(
          `re-registration times after the event: first ${first} ms, p50 ${pct(0.5)} ms, p90 ${pct(0.9)} ms, last ${last} ms` +
            (rateLimited > 0 ? `; ${rateLimited} attempts rate-limited (429)` : ''),
        );
        for (const row of histogram(times)) log(row);
        // Jitter: the returns must not be one synchronised wave.
        const bucket = 50;
        const peak = Math.max(...countBuckets(times, bucket));
        const spread = last - first;
        checks.push(
          check(
            'the spread shows jitter',
            size < 10 || (spread >= heartbeat * 0.1 && peak <= Math.ceil(size / 2)),
            `spread ${spread} ms (≥ ${Math.round(heartbeat * 0.1)} ms wanted), busiest ${bucket} ms holds ${peak}/${size}`,
          ),
        );
      }
    } finally {
      await Promise.all(handles.map((h) => h.close()));
      await new Promise<void>((r) => server.close(() => r()));
    }
    return { checks };
  },
};

function countBuckets(times: number[], width: number): number[] {
  const counts = new Map<number, number>();
  for (const t of times) counts.set(Math.floor(t / width), (counts.get(Math.floor(t / width)) ?? 0) + 1);
  return [...counts.values()];
}

/** A ten-row text histogram of return times. */
function histogram(times: number[]): string[] {
  const first = times[0] ?? 0;
  const last = times.at(-1) ?? 0;
  const width = Math.max(1, Math.ceil((last - first + 1) / 10));
  const rows = new Array<number>(10).fill(0);
  for (const t of times) rows[Math.min(9, Math.floor((t - first) / width))]++;
  const max = Math.max(...rows);
  return rows.map((n, i) => {
    const from = first + i * width;
    return `${String(from).padStart(6)}–${String(from + width).padEnd(6)} ms ${'█'.repeat(Math.round((n / max) * 40))} ${n}`;
  });
}
