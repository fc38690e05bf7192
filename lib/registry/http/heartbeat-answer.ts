/**
 * The answer to an accepted heartbeat, `200 {"service","instance_id","expires_at","status"}`
 * (README "Registration API"): the registration API's most frequent response (10,000 instances
 * send 333 a second), written without the generic JSON writer's object spread and full
 * `JSON.stringify`. The body and headers are those `sendJson` (lib/core/send-error.ts) writes.
 */
import type { ServerResponse } from 'node:http';
import type { ServiceInstance } from '../model.js';
import { isoTime } from './iso-time.js';

/**
 * Writes the heartbeat answer for the renewed `instance`.
 * @example sendHeartbeatAnswer(res, await registry.heartbeat(service, id, proof));
 */
export function sendHeartbeatAnswer(
  res: ServerResponse,
  instance: Pick<ServiceInstance, 'service' | 'instanceId' | 'expiresAt' | 'status'>,
): void {
  const body = `{"service":${JSON.stringify(instance.service)},"instance_id":${JSON.stringify(instance.instanceId)},"expires_at":"${isoTime(instance.expiresAt)}","status":${JSON.stringify(instance.status)}}`;
  res.writeHead(200, [
    'content-type',
    'application/json; charset=utf-8',
    'content-length',
    String(Buffer.byteLength(body)),
    'cache-control',
    'no-store',
  ]);
  res.end(body);
}
