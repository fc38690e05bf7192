/**
 * Drill `websocket-restart` (#10): WebSocket clients on the gateway's message endpoint (`/ws`)
 * keep sending to a service of two instances while (1) one instance restarts and (2) a gateway
 * restarts. Clients reconnect when their connection closes and resend nothing: a message id is
 * sent once. Every client must be connected and answered again after each event (re-pinned), and
 * no message id may ever reach two instances.
 */

import type { MessageRoutesServer } from '../../lib/client/index.js';
import { serveMessageRoutes } from '../../lib/client/index.js';
import { check, type Drill, type DrillCheck, numberParam, stringParam } from './drill.js';
import { drillDescription } from './drill-names.js';
import { cleanUp, type DrillUpstream, joinFleet, startUpstream, waitListed } from './drill-upstream.js';
import { liveProcesses, waitFor } from './fleet-probe.js';
import { WsClientPool } from './ws-client-pool.js';

const SERVICE = 'drill-ws';

/** The websocket-restart drill. */
export const websocketRestartDrill: Drill = {
  name: 'websocket-restart',
  description: drillDescription('websocket-restart'),
  async run({ client, params, log }) {
    const clients = Math.round(numberParam(params, 'clients', 8));
    const bound = numberParam(params, 'bound', 5000);
    const target = stringParam(params, 'gateway') ?? 'gateway-1';
    const { gatewayUrls } = await liveProcesses(client);
    const deliveries = new Map<string, Set<string>>();
    const instances: {
      id: string;
      up?: DrillUpstream;
      ws?: MessageRoutesServer;
      handle?: ReturnType<typeof joinFleet>;
    }[] = [{ id: `${SERVICE}-1` }, { id: `${SERVICE}-2` }];
    const start = async (slot: (typeof instances)[number]): Promise<void> => {
      slot.up = await startUpstream((req, res) => {
        if (req.url === '/health') return void res.end('{"status":"UP"}');
        res.writeHead(404).end();
      });
      slot.ws = await serveMessageRoutes(slot.up.server, {
        [`/${SERVICE}/echo`]: (data, ctx) => {
          const seen = deliveries.get(String(ctx.id)) ?? new Set<string>();
          seen.add(slot.id);
          deliveries.set(String(ctx.id), seen);
          return { instance_id: slot.id, data };
        },
      });
      slot.handle = joinFleet(gatewayUrls, {
        service: SERVICE,
        instanceId: slot.id,
        url: slot.up.url,
        routes: slot.ws.routeSpecs(),
      });
    };
    const stop = async (slot: (typeof instances)[number]): Promise<void> => {
      await slot.ws?.close();
      await cleanUp(slot.handle === undefined ? [] : [slot.handle], [slot.up]);
    };
    const checks: DrillCheck[] = [];
    let pool: WsClientPool | undefined;
    try {
      for (const s of instances) await start(s);
      if (
        (await waitListed(
          gatewayUrls,
          instances.map((s) => s.id),
          10_000,
        )) === undefined
      )
        return { checks: [check('the drill instances register', false, 'not listed within 10 s')] };
      pool = new WsClientPool({ gateways: gatewayUrls, clients, path: `/${SERVICE}/echo`, intervalMs: 50 });
      pool.start();
      const warm = await waitFor(async () => pool?.allAnsweredSince(0) ?? false, bound);
      log(`${clients} clients on /ws, ${warm === undefined ? 'not all answered' : `all answered within ${warm} ms`}`);

      // 1. An upstream instance restarts (its links close; it comes back on a new port, same id).
      const victim = instances[0] as (typeof instances)[number];
      const t1 = Date.now();
      await stop(victim);
      await start(victim);
      const repinned1 = await waitFor(async () => pool?.allAnsweredSince(Date.now() - 200) ?? false, bound);
      log(`${victim.id} restarted at ${victim.up?.url}; every client answered again after ${repinned1 ?? 'never'} ms`);
      checks.push(
        check(
          'clients re-pin after an instance restart',
          repinned1 !== undefined && pool.connected() === clients,
          `${pool.connected()}/${clients} connected, all answered again ${repinned1 === undefined ? `not within ${bound} ms` : `${Date.now() - t1} ms after the restart began`}; ${pool.errorsSince(t1)} messages answered with an error meanwhile`,
        ),
      );

      // 2. A gateway restarts (clients get 1001 and reconnect).
      const t2 = Date.now();
      const r = await client.call<{ ms: number }>('restart', { target });
      const back = await waitFor(async () => pool?.allAnsweredSince(Date.now() - 200) ?? false, bound + 5000);
      checks.push(
        check(
          'clients reconnect and re-pin after a gateway restart',
          back !== undefined && pool.connected() === clients,
          `${pool.connected()}/${clients} connected, ${pool.reconnects()} reconnects in all; every client answered again ${back === undefined ? `not within ${bound + 5000} ms` : `${Date.now() - t2} ms after the restart began (restart took ${r.ms} ms)`}`,
        ),
      );
      await pool.stop();
      const twice = [...deliveries.entries()].filter(([, s]) => s.size > 1);
      checks.push(
        check(
          'no message reaches two instances',
          twice.length === 0 && deliveries.size > 0,
          `${pool.sent()} messages sent, ${deliveries.size} delivered, ${twice.length} delivered to two instances${
            twice.length
              ? ` (${twice
                  .slice(0, 3)
                  .map(([id]) => id)
                  .join(', ')})`
              : ''
          }, ${pool.duplicateReplies()} duplicate replies`,
        ),
      );
    } finally {
      await pool?.stop();
      for (const s of instances) await stop(s);
    }
    return { checks };
  },
};
