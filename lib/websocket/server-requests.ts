/**
 * Requests a service sent to a client through the gateway (`ctx.request()` in
 * lib/client/ws-routes.ts), one table per client connection: each gets an id the gateway issued,
 * so the client's answer `{"id","data"}` can only reach the instance that asked, under the id
 * that instance chose. Answers to ids the gateway never issued (or already settled) find nothing.
 */
import { randomBytes } from 'node:crypto';
import type { MessageId } from './message-frames.js';

/** Requests remembered per client; beyond it the oldest are forgotten (their answers are then dropped). */
export const MAX_SERVER_REQUESTS = 4096;

/** Who asked, and under which id. */
export interface ServerRequest<L> {
  link: L;
  id: MessageId;
}

/** Makes every gateway process issue different ids (they only need to be unique per connection). */
const PREFIX = `fg-${randomBytes(3).toString('hex')}-`;

/**
 * @example
 * const reqs = new ServerRequests<UpstreamLink>();
 * const gatewayId = reqs.issue(link, 's1');       // 'fg-3fa9c1-1', sent to the client
 * reqs.take('fg-3fa9c1-1');                        // { link, id: 's1' }, once
 */
export class ServerRequests<L> {
  readonly #byId = new Map<string, ServerRequest<L>>();
  #seq = 0;

  /** Requests waiting for the client's answer. */
  get size(): number {
    return this.#byId.size;
  }

  /** Remembers a request from `link` and returns the id the client will see. */
  issue(link: L, id: MessageId): string {
    if (this.#byId.size >= MAX_SERVER_REQUESTS) this.#byId.delete(this.#byId.keys().next().value!);
    const gatewayId = PREFIX + ++this.#seq;
    this.#byId.set(gatewayId, { link, id });
    return gatewayId;
  }

  /** The request an answer with this id settles (forgotten now), or undefined. */
  take(id: MessageId): ServerRequest<L> | undefined {
    if (typeof id !== 'string') return undefined;
    const hit = this.#byId.get(id);
    if (hit !== undefined) this.#byId.delete(id);
    return hit;
  }

  /** Forgets every request of a link that ended. */
  forget(link: L): void {
    for (const [id, r] of this.#byId) if (r.link === link) this.#byId.delete(id);
  }
}
