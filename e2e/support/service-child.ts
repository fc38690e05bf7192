/**
 * Entry point of a service child process (spawned by service-process.ts): an upstream plus
 * `registerService()`, configured by the `FLEETGATE_E2E_SERVICE` JSON variable. Prints one
 * `service ready {json}` line once registered. Killing it with SIGKILL stops its heartbeats
 * without a deregistration: the crash an expiry test needs.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { registerService } from '../../lib/client/index.js';
import type { ServiceChildConfig, ServiceChildReady } from './service-process.js';
import { upstreamHandler } from './upstream-service.js';

const config = JSON.parse(process.env.FLEETGATE_E2E_SERVICE ?? '{}') as ServiceChildConfig;
const server = createServer(upstreamHandler(config.label));
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
const handle = registerService({
  gateway: config.gateway,
  service: config.service,
  url,
  routes: config.routes,
  healthEndpoint: '/health',
  ...(config.instanceId === undefined ? {} : { instanceId: config.instanceId }),
});
handle.on('error', (err) => {
  process.stderr.write(`service refused for good: ${err.message}\n`);
  process.exit(1);
});
const reg = await handle.ready;
const ready: ServiceChildReady = {
  url,
  instanceId: reg.instanceId,
  ttlMs: reg.ttlMs,
  heartbeatIntervalMs: reg.heartbeatIntervalMs,
};
process.stdout.write(`service ready ${JSON.stringify(ready)}\n`);
// A graceful stop deregisters; SIGKILL (the crash) never gets here.
process.once('SIGTERM', () => {
  void handle.close().then(() => server.close(() => process.exit(0)));
});
