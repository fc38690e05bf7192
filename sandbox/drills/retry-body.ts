/**
 * Drill `retry-body` (#9): the body of a non-idempotent request on retry.
 *
 * - Service `drill-body-sent`: one instance reads the whole POST body, then drops the connection
 *   without answering; another answers normally. A POST whose bytes reached the first must be
 *   answered with an error and never be delivered to the second: no id is received twice.
 * - Service `drill-body-refused`: one instance is registered on a port nobody listens on
 *   (connection refused: nothing was sent); another answers. Every POST must succeed, delivered
 *   exactly once with its whole body: the refused attempts were retried on the live instance.
 */
import { createServer } from 'node:net';
import { request } from 'undici';
import { check, type Drill, type DrillCheck, numberParam } from './drill.js';
import { drillDescription } from './drill-names.js';
import { cleanUp, type DrillUpstream, joinFleet, startUpstream, waitListed } from './drill-upstream.js';
import { liveProcesses } from './fleet-probe.js';

/** The retry-body drill. */
export const retryBodyDrill: Drill = {
  name: 'retry-body',
  description: drillDescription('retry-body'),
  async run({ client, params, log }) {
    const posts = Math.round(numberParam(params, 'posts', 20));
    const bodyBytes = Math.round(numberParam(params, 'bodyBytes', 4096));
    const { gatewayUrls } = await liveProcesses(client);
    const received = new Map<string, { instance: string; bytes: number }[]>();
    const record = (instance: string, id: string, bytes: number): void => {
      const list = received.get(id) ?? [];
      list.push({ instance, bytes });
      received.set(id, list);
    };
    const reader = (instance: string, answer: boolean): Parameters<typeof startUpstream>[0] => {
      return (req, res) => {
        if (req.url === '/health') return void res.end('{"status":"UP"}');
        let bytes = 0;
        req.on('data', (c: Buffer) => {
          bytes += c.length;
        });
        req.on('end', () => {
          record(instance, String(req.headers['x-drill-id']), bytes);
          if (answer) {
            res.writeHead(200, { 'content-type': 'application/json' });
            res.end(JSON.stringify({ instance_id: instance, bytes }));
          } else {
            // The bytes arrived; the instance dies before answering (no response, connection cut).
            req.socket.destroy();
          }
        });
      };
    };
    const upstreams: (DrillUpstream | undefined)[] = [];
    const handles = [];
    const checks: DrillCheck[] = [];
    try {
      const cut = await startUpstream(reader('drill-body-cut', false));
      const okSent = await startUpstream(reader('drill-body-ok', true));
      const okRefused = await startUpstream(reader('drill-body-live', true));
      upstreams.push(cut, okSent, okRefused);
      const deadPort = await closedPort();
      handles.push(
        joinFleet(gatewayUrls, {
          service: 'drill-body-sent',
          instanceId: 'drill-body-cut',
          url: cut.url,
          routes: [{ method: 'POST', path: '/drill-body-sent/**' }],
        }),
        joinFleet(gatewayUrls, {
          service: 'drill-body-sent',
          instanceId: 'drill-body-ok',
          url: okSent.url,
          routes: [{ method: 'POST', path: '/drill-body-sent/**' }],
        }),
        joinFleet(gatewayUrls, {
          service: 'drill-body-refused',
          instanceId: 'drill-body-dead',
          url: `http://127.0.0.1:${deadPort}`,
          routes: [{ method: 'POST', path: '/drill-body-refused/**' }],
        }),
        joinFleet(gatewayUrls, {
          service: 'drill-body-refused',
          instanceId: 'drill-body-live',
          url: okRefused.url,
          routes: [{ method: 'POST', path: '/drill-body-refused/**' }],
        }),
      );
      const ids = ['drill-body-cut', 'drill-body-ok', 'drill-body-dead', 'drill-body-live'];
      if ((await waitListed(gatewayUrls, ids, 10_000)) === undefined)
        return { checks: [check('the drill instances register', false, 'not listed within 10 s')] };

      const body = Buffer.alloc(bodyBytes, 'x');
      const send = async (service: string, i: number) => {
        const id = `${service}-${i}`;
        try {
          const res = await request(`${gatewayUrls[i % gatewayUrls.length]}/${service}/orders`, {
            method: 'POST',
            headers: { 'content-type': 'application/octet-stream', 'x-drill-id': id },
            body,
            headersTimeout: 5000,
          });
          await res.body.text();
          return { id, status: res.statusCode };
        } catch (err) {
          return { id, status: 0, error: (err as Error).message };
        }
      };
      // One at a time, so round-robin alternates and both instances of each service get POSTs.
      const sent: { id: string; status: number }[] = [];
      for (let i = 0; i < posts; i++) sent.push(await send('drill-body-sent', i));
      const refused: { id: string; status: number }[] = [];
      for (let i = 0; i < posts; i++) refused.push(await send('drill-body-refused', i));

      const cutIds = sent.filter((s) => received.get(s.id)?.some((r) => r.instance === 'drill-body-cut'));
      const twice = [...received.entries()].filter(([, r]) => r.length > 1).map(([id]) => id);
      const cutAnswered = cutIds.filter((s) => s.status >= 500 || s.status === 0);
      log(
        `drill-body-sent: ${sent.filter((s) => s.status === 200).length}/${posts} answered 200, ${cutIds.length} reached the instance that cuts the connection`,
      );
      checks.push(
        check(
          'a POST that reached an instance is never sent twice',
          cutIds.length > 0 && twice.length === 0 && cutAnswered.length === cutIds.length,
          `${cutIds.length} POSTs reached the instance and lost their answer: ${cutAnswered.length} answered ${[...new Set(cutAnswered.map((s) => s.status))].join('/') || '-'} to the client, ${twice.length} delivered twice${twice.length ? ` (${twice.slice(0, 3).join(', ')})` : ''}`,
        ),
      );
      const okRefusedIds = refused.filter((s) => s.status === 200);
      const once = refused.filter((s) => {
        const r = received.get(s.id);
        return r?.length === 1 && r[0]?.instance === 'drill-body-live' && r[0].bytes === bodyBytes;
      });
      const explain = await fetch(
        `${gatewayUrls[0]}/_fleetgate/explain?method=POST&path=/drill-body-refused/orders`,
      ).then(
        (r) => r.json() as Promise<{ excluded?: { instanceId?: string; reason?: string }[] }>,
        () => undefined,
      );
      const dead = explain?.excluded?.find((e) => e.instanceId === 'drill-body-dead');
      checks.push(
        check(
          'a POST refused before any byte was sent is retried once',
          okRefusedIds.length === posts && once.length === posts && dead !== undefined,
          `${okRefusedIds.length}/${posts} answered 200, ${once.length} delivered exactly once with all ${bodyBytes} bytes; the refusing instance is ${dead === undefined ? 'still a candidate (no refused attempt seen)' : `excluded (${dead.reason ?? 'no reason given'}) after its refused attempt`}`,
        ),
      );
    } finally {
      await cleanUp(handles, upstreams);
    }
    return { checks };
  },
};

/** A loopback port that was just free and is closed again: connecting to it is refused. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
