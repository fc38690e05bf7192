/**
 * A rolling restart of two `fleetgate` processes sharing one real Redis under steady load, with a
 * client that retries only when a connection is refused (ECONNREFUSED), on the other gateway: every
 * request must succeed. Each gateway drains on SIGTERM (issue #13 point 7): the listener closes
 * (new connections are refused, so the client moves on), in-flight requests finish, keep-alive
 * connections are told `Connection: close`. Prints requests, retries and the worst latency.
 */
import assert from 'node:assert/strict';
import { Agent, createServer, request } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { freePort, type RedisServer, redisSkipReason, startRedis } from '../sandbox/servers/index.js';
import { type GatewayProcess, startGateway } from './support/gateway-process.js';

const skip = await redisSkipReason();

interface Outcome {
  ok: boolean;
  refused: boolean;
  port: number;
  error?: string;
}

function once(agent: Agent, port: number): Promise<Outcome> {
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, path: '/roll/x', agent }, (res) => {
      res.resume();
      res.on('end', () =>
        resolve({
          ok: res.statusCode === 200,
          port,
          ...(res.statusCode === 200 ? {} : { error: `status ${res.statusCode}` }),
          refused: false,
        }),
      );
      res.on('error', (err) => resolve({ ok: false, refused: false, port, error: err.message }));
    });
    req.on('error', (err: NodeJS.ErrnoException) =>
      resolve({ ok: false, refused: err.code === 'ECONNREFUSED', port, error: err.code ?? err.message }),
    );
    req.end();
  });
}

describe('rolling restart of two gateways on Redis', { skip }, () => {
  let redis: RedisServer;
  before(async () => {
    redis = await startRedis();
  });
  after(async () => {
    await redis?.stop();
  });

  it('serves every request of a steady load while both gateways restart one after the other', async () => {
    const upstream = createServer((_req, res) => {
      setTimeout(() => res.end('ok'), 5);
    });
    await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
    const upstreamUrl = `http://127.0.0.1:${(upstream.address() as { port: number }).port}`;
    const ports = [await freePort(), await freePort({ min: 21000 - 2000 })];
    const env = (port: number) => ({
      PORT: String(port),
      REGISTRY_TYPE: 'REDIS',
      REGISTRY_REDIS_ADDR: redis.url,
      SHUTDOWN_GRACE: '5s',
    });
    const gateways: GatewayProcess[] = [];
    for (const [i, port] of ports.entries()) gateways[i] = await startGateway(env(port), { name: `gw${i}` });
    const agent = new Agent({ keepAlive: true, maxSockets: 8 });
    let stop = false;
    const stats = {
      requests: 0,
      retries: 0,
      failures: [] as string[],
      maxLatencyMs: 0,
      byPort: new Map<number, number>(),
    };
    try {
      const reg = await gateways[0]!.register({
        service: 'roll',
        url: upstreamUrl,
        routes: [{ method: 'GET', path: '/roll/*' }],
      });
      assert.equal(reg.status, 200);
      const deadline = Date.now() + 10_000;
      while (Date.now() < deadline && (await once(agent, ports[1]!)).ok === false)
        await new Promise((r) => setTimeout(r, 20));

      const worker = async (w: number): Promise<void> => {
        while (!stop) {
          const started = performance.now();
          let target = w % 2;
          let outcome = await once(agent, ports[target]!);
          // Retry only a refused connection, on the other gateway; a bounded number of times.
          for (let attempt = 0; !outcome.ok && outcome.refused && attempt < 200; attempt++) {
            stats.retries++;
            target = 1 - target;
            if (attempt > 0 && attempt % 2 === 0) await new Promise((r) => setTimeout(r, 10));
            outcome = await once(agent, ports[target]!);
          }
          stats.requests++;
          stats.maxLatencyMs = Math.max(stats.maxLatencyMs, performance.now() - started);
          if (outcome.ok) stats.byPort.set(outcome.port, (stats.byPort.get(outcome.port) ?? 0) + 1);
          else stats.failures.push(`${outcome.port}: ${outcome.error}`);
        }
      };
      const load = Promise.all([0, 1, 2, 3].map(worker));
      const servedBy = (port: number) => stats.byPort.get(port) ?? 0;
      const waitServed = async (port: number, more: number): Promise<void> => {
        const target = servedBy(port) + more;
        const until = Date.now() + 15_000;
        while (servedBy(port) < target && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
        assert.ok(servedBy(port) >= target, `gateway on ${port} served ${servedBy(port)}`);
      };
      await waitServed(ports[0]!, 50);
      for (const [i, port] of ports.entries()) {
        const exit = await gateways[i]!.stop(10_000);
        assert.equal(exit.code, 0, gateways[i]!.output());
        gateways[i] = await startGateway(env(port), { name: `gw${i}-restarted` });
        await waitServed(port, 50);
      }
      stop = true;
      await load;
      process.stdout.write(
        `# rolling restart: ${stats.requests} requests, ${stats.retries} retries on ECONNREFUSED, ${stats.failures.length} failed, max latency ${stats.maxLatencyMs.toFixed(1)} ms\n`,
      );
      assert.deepEqual(stats.failures, []);
    } finally {
      stop = true;
      agent.destroy();
      for (const g of gateways) await g?.kill();
      upstream.closeAllConnections();
      await new Promise((resolve) => upstream.close(resolve));
    }
  });
});
