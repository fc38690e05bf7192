/**
 * Entry point of a message-routing service child (spawned by ws-service-process.ts): the Eurus
 * seed's chat and monitor examples served by `serveMessageRoutes()` and registered with
 * `registerService()`, configured by the `FLEETGATE_E2E_WS_SERVICE` JSON variable. It prints
 * one JSON line per event (`ready`, `open`, `close`, `answer`, `monitor-end`) so a test can count
 * hooks; SIGKILL is a real crash (no close hooks, no deregistration).
 */
import { registerService, serveMessageRoutes } from '../../lib/client/index.js';
import type { ConnectionContext } from '../../lib/client/ws-link.js';
import type { WsServiceChildConfig } from './ws-service-process.js';

const config = JSON.parse(process.env.FLEETGATE_E2E_WS_SERVICE ?? '{}') as WsServiceChildConfig;
const emit = (event: Record<string, unknown>): void => {
  process.stdout.write(`${JSON.stringify({ label: config.label, ...event })}\n`);
};
/** Bound on the monitor loop, so a test that forgets to disconnect cannot keep it going. */
const MAX_MONITOR_ROUNDS = 200;

/** Asks the client for its metrics every `monitorIntervalMs` until asking fails (the client left). */
async function monitor(ctx: ConnectionContext): Promise<void> {
  let answers = 0;
  for (let round = 0; round < MAX_MONITOR_ROUNDS; round++) {
    await new Promise((r) => setTimeout(r, config.monitorIntervalMs));
    try {
      const metrics = await ctx.request({ round }, { path: '/monitor/start', timeoutMs: 5000 });
      answers++;
      emit({ ev: 'answer', conn: ctx.connectionId, answers, metrics });
    } catch (err) {
      emit({ ev: 'monitor-end', conn: ctx.connectionId, answers, code: (err as { code?: string }).code });
      return;
    }
  }
}

const ws = await serveMessageRoutes(
  { port: 0 },
  {
    '/chat/join': (data, ctx) => {
      const { username, room } = data as { username: string; room: string };
      ctx.socket.set('username', username);
      ctx.socket.set('room', room);
      return { status: 'joined', room, instance: config.label, conn: ctx.connectionId };
    },
    '/chat/message': (data, ctx) => {
      const username = ctx.socket.mustGet<string>('username');
      const room = ctx.socket.mustGet<string>('room');
      return { status: 'sent', from: username, room, text: (data as { text: string }).text, instance: config.label };
    },
    '/monitor/start': (_data, ctx) => {
      void monitor(ctx);
      return { status: 'monitoring', instance: config.label, conn: ctx.connectionId };
    },
    // A misbehaving instance: answers a request id it was never sent (another service's).
    '/chat/forge': (data, ctx) => {
      ctx.ws.send(JSON.stringify({ id: (data as { id: string | number }).id, data: 'forged' }));
      return 'forged one';
    },
  },
  {
    onOpen: (ctx) => emit({ ev: 'open', conn: ctx.connectionId, repinned: ctx.repinned }),
    onClose: (ctx, info) =>
      emit({
        ev: 'close',
        conn: ctx.connectionId,
        code: info.code,
        durationMs: info.durationMs,
        user: ctx.socket.get('username'),
      }),
  },
);
const url = `http://127.0.0.1:${ws.port}`;
const handle = registerService({
  gateway: config.gateway,
  service: config.service,
  url,
  instanceId: config.label,
  routes: ws.routeSpecs(),
});
handle.on('error', (err) => {
  process.stderr.write(`service refused for good: ${err.message}\n`);
  process.exit(1);
});
await handle.ready;
emit({ ev: 'ready', url });
process.once('SIGTERM', () => {
  void handle.close().then(() => ws.close().then(() => process.exit(0)));
});
