/**
 * The Lua scripts of the Redis registry backend. Each touches the keys of one service only (all
 * hash-tagged `{service}`, so one slot on a cluster), changes them atomically, and PUBLISHes the
 * resulting event in the same script: a change and its event can never be separated.
 *
 * An instance is a hash `doc` (JSON of the registration-fixed fields), `registeredAt`,
 * `lastHeartbeat`, `expiresAt`, `status`, `epoch`. Scripts return it as that 6-element array.
 * Numbers travel as decimal strings (computed in JS) so Lua never formats a timestamp.
 *
 * Common layout of the instance scripts: KEYS[1] instance hash, KEYS[2] the service's expiry
 * sorted set; ARGV[1] event channel, ARGV[2] service, ARGV[3] instance id, ARGV[4] now (ms).
 */

const PRELUDE = `
local function load(key)
  local v = redis.call('HMGET', key, 'doc', 'registeredAt', 'lastHeartbeat', 'expiresAt', 'status', 'epoch')
  if not v[1] then return nil end
  return v
end
local function publish(kind, svc, id, v)
  local msg = '{"t":"' .. kind .. '","s":' .. cjson.encode(svc) .. ',"i":' .. cjson.encode(id)
  if v then
    msg = msg .. ',"d":' .. v[1] .. ',"r":' .. v[2] .. ',"h":' .. v[3] .. ',"x":' .. v[4] .. ',"st":"' .. v[5] .. '","e":' .. v[6]
  end
  redis.call('PUBLISH', ARGV[1], msg .. '}')
end
local function drop(key, zkey, id)
  redis.call('DEL', key)
  redis.call('ZREM', zkey, id)
end
local now = tonumber(ARGV[4])
`;

/** ARGV[5] doc JSON, ARGV[6] expiresAt, ARGV[7] key PEXPIRE ms, ARGV[8] status. Returns the instance. */
export const REGISTER_LUA = `${PRELUDE}
local epoch = 1
local old = load(KEYS[1])
if old then
  if tonumber(old[4]) > now then
    epoch = tonumber(old[6]) + 1
  else
    drop(KEYS[1], KEYS[2], ARGV[3])
    publish('expire', ARGV[2], ARGV[3], old)
  end
end
redis.call('HSET', KEYS[1], 'doc', ARGV[5], 'registeredAt', ARGV[4], 'lastHeartbeat', ARGV[4],
  'expiresAt', ARGV[6], 'status', ARGV[8], 'epoch', tostring(epoch))
redis.call('PEXPIRE', KEYS[1], ARGV[7])
redis.call('ZADD', KEYS[2], ARGV[6], ARGV[3])
local v = load(KEYS[1])
publish('register', ARGV[2], ARGV[3], v)
return v
`;

/**
 * ARGV[5] expiresAt, ARGV[6] key PEXPIRE ms. Returns the instance, or nil when it is unknown or
 * already expired (an expired one is reaped here, with its `expire` event, and never renewed).
 * A missing key keeps its sorted-set entry so the reaper still reports the expiry.
 */
export const HEARTBEAT_LUA = `${PRELUDE}
local v = load(KEYS[1])
if not v then return nil end
if tonumber(v[4]) <= now then
  drop(KEYS[1], KEYS[2], ARGV[3])
  publish('expire', ARGV[2], ARGV[3], v)
  return nil
end
redis.call('HSET', KEYS[1], 'lastHeartbeat', ARGV[4], 'expiresAt', ARGV[5])
redis.call('PEXPIRE', KEYS[1], ARGV[6])
redis.call('ZADD', KEYS[2], ARGV[5], ARGV[3])
v = load(KEYS[1])
publish('heartbeat', ARGV[2], ARGV[3], v)
return v
`;

/** Returns 1 when a live instance was removed, else 0. */
export const DEREGISTER_LUA = `${PRELUDE}
local v = load(KEYS[1])
if not v then return 0 end
drop(KEYS[1], KEYS[2], ARGV[3])
if tonumber(v[4]) <= now then
  publish('expire', ARGV[2], ARGV[3], v)
  return 0
end
publish('deregister', ARGV[2], ARGV[3], v)
return 1
`;

/** ARGV[5] status. Returns the instance (an event only when the status changed), or nil. */
export const SET_STATUS_LUA = `${PRELUDE}
local v = load(KEYS[1])
if not v then return nil end
if tonumber(v[4]) <= now then
  drop(KEYS[1], KEYS[2], ARGV[3])
  publish('expire', ARGV[2], ARGV[3], v)
  return nil
end
if v[5] ~= ARGV[5] then
  redis.call('HSET', KEYS[1], 'status', ARGV[5])
  v = load(KEYS[1])
  publish('status', ARGV[2], ARGV[3], v)
end
return v
`;

/**
 * KEYS[1] the expiry sorted set; ARGV[1] channel, ARGV[2] service, ARGV[3] instance key prefix,
 * ARGV[4] now, ARGV[5] batch size. Removes up to a batch of instances whose score (expiresAt) has
 * passed and whose hash is gone or expired, publishing one `expire` each (with the last value
 * when the hash is still there); fixes stale scores of renewed ones.
 * Returns { reaped, examined, members left }.
 */
export const REAP_LUA = `${PRELUDE}
local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[4], 'LIMIT', 0, tonumber(ARGV[5]))
local reaped = 0
for _, id in ipairs(ids) do
  local key = ARGV[3] .. id
  local v = load(key)
  if v and tonumber(v[4]) > now then
    redis.call('ZADD', KEYS[1], v[4], id)
  else
    drop(key, KEYS[1], id)
    publish('expire', ARGV[2], id, v)
    reaped = reaped + 1
  end
end
return { reaped, #ids, redis.call('ZCARD', KEYS[1]) }
`;

/** KEYS[1] the expiry sorted set; ARGV[1] instance key prefix, ARGV[2] now. Returns every live instance. */
export const LIST_LUA = `
local now = tonumber(ARGV[2])
local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '(' .. ARGV[2], '+inf')
local out = {}
for _, id in ipairs(ids) do
  local v = redis.call('HMGET', ARGV[1] .. id, 'doc', 'registeredAt', 'lastHeartbeat', 'expiresAt', 'status', 'epoch')
  if v[1] and tonumber(v[4]) > now then out[#out + 1] = v end
end
return out
`;

/** KEYS[1] lock; ARGV[1] token, ARGV[2] PEXPIRE ms. Extends the lock if we hold it: 1, else 0. */
export const LOCK_RENEW_LUA = `
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
return 0
`;

/** KEYS[1] lock; ARGV[1] token. Deletes the lock if we hold it: 1, else 0. */
export const LOCK_RELEASE_LUA = `
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
`;
