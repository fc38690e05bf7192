/**
 * A rate-limit store shared by every gateway: one Lua script refills and takes atomically in one
 * round trip (EVALSHA through ioredis `defineCommand`, EVAL only after a script-cache miss).
 * Keys are hash-tagged, so the store works unchanged on Redis Cluster, and expire once the bucket
 * would be full again, so idle clients cost nothing.
 */
import type { Cluster, Redis } from 'ioredis';
import type { Clock } from '../clock.js';
import type { RateLimitStore } from './store.js';
import type { BucketConfig, RateLimitDecision } from './token-bucket.js';

/**
 * The script mirrors `takeToken()` in token-bucket.ts. State is one string `"<tokens> <updatedAt>"`.
 * ARGV: capacity, refillPerSecond, cost, now (ms; 0 = use the server's TIME so skewed gateway clocks agree).
 * Returns { allowed (0|1), whole tokens left, ms until full, ms until admitted (-1 = never) }.
 */
export const TAKE_TOKEN_LUA = `
local capacity = tonumber(ARGV[1])
local perMs = tonumber(ARGV[2]) / 1000
local cost = tonumber(ARGV[3])
local now = tonumber(ARGV[4])
if now <= 0 then
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local tokens = capacity
local updated = now
local raw = redis.call('GET', KEYS[1])
if raw then
  local sep = string.find(raw, ' ', 1, true)
  local t0 = tonumber(string.sub(raw, 1, sep - 1))
  local u0 = tonumber(string.sub(raw, sep + 1))
  if now > u0 then
    tokens = math.min(capacity, t0 + (now - u0) * perMs)
  else
    tokens = t0
    updated = u0
  end
end
local allowed = 0
if tokens >= cost then
  tokens = tokens - cost
  allowed = 1
end
local resetMs = 0
local retryMs = 0
if perMs > 0 then
  resetMs = math.ceil((capacity - tokens) / perMs)
  if allowed == 0 then retryMs = math.ceil((cost - tokens) / perMs) end
elseif allowed == 0 then
  retryMs = -1
end
local value = string.format('%.17g', tokens) .. ' ' .. string.format('%.17g', updated)
if perMs > 0 then
  redis.call('SET', KEYS[1], value, 'PX', resetMs + 1000)
else
  redis.call('SET', KEYS[1], value)
end
return { allowed, math.floor(tokens), resetMs, retryMs }
`;

/** The ioredis command name the script is defined under. */
const COMMAND = 'fleetgateTakeToken';

type TakeCommand = (key: string, capacity: number, refill: number, cost: number, now: number) => Promise<number[]>;

/** Options of {@link RedisStore}. */
export interface RedisStoreOptions {
  /** Key prefix; the bucket key is `<prefix>{<key>}`. @default 'fleetgate:rl:' */
  prefix: string;
  /**
   * Time source. @default undefined: the Redis server's `TIME`, so gateways whose clocks drift
   * still share one consistent bucket. Pass a clock to drive the script from tests.
   */
  clock: Clock | undefined;
}

/** Defaults of {@link RedisStoreOptions}. Frozen. */
export const REDIS_STORE_DEFAULTS: Readonly<RedisStoreOptions> = Object.freeze({
  prefix: 'fleetgate:rl:',
  clock: undefined,
});

/**
 * Buckets in Redis (standalone or Cluster), shared by every gateway using the same prefix.
 * The client is injected and never closed by the store. Give it `enableOfflineQueue: false`
 * so an unreachable Redis fails fast instead of queueing (the limiter also races a timer).
 * @example
 * const store = new RedisStore(new Redis(process.env.REDIS_URL, { enableOfflineQueue: false }));
 * app.use(rateLimit({ limit: 100, window: '1m', store }));
 */
export class RedisStore implements RateLimitStore {
  readonly name = 'redis';
  readonly #opts: RedisStoreOptions;
  readonly #take: TakeCommand;

  constructor(client: Redis | Cluster, options: Partial<RedisStoreOptions> = {}) {
    this.#opts = { ...REDIS_STORE_DEFAULTS };
    if (options.prefix !== undefined) this.#opts.prefix = options.prefix;
    if (options.clock !== undefined) this.#opts.clock = options.clock;
    const commands = client as unknown as Record<string, TakeCommand | undefined>;
    if (typeof commands[COMMAND] !== 'function') {
      client.defineCommand(COMMAND, { numberOfKeys: 1, lua: TAKE_TOKEN_LUA });
    }
    const take = commands[COMMAND] as TakeCommand;
    this.#take = take.bind(client);
  }

  /** The Redis key of a bucket: hash-tagged so one bucket always lives in one Cluster slot. */
  keyFor(key: string): string {
    return `${this.#opts.prefix}{${key}}`;
  }

  async take(key: string, config: BucketConfig, cost = 1): Promise<RateLimitDecision> {
    const now = this.#opts.clock?.now() ?? 0;
    const [allowed, remaining, resetMs, retryMs] = await this.#take(
      this.keyFor(key),
      config.capacity,
      config.refillPerSecond,
      cost,
      now,
    );
    return {
      allowed: allowed === 1,
      limit: config.capacity,
      remaining: Math.max(0, Number(remaining)),
      resetMs: Number(resetMs),
      retryAfterMs: retryMs === -1 ? Number.POSITIVE_INFINITY : Number(retryMs),
    };
  }

  /** Nothing to release: the client belongs to the caller. */
  async close(): Promise<void> {}

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}
