/**
 * The Lua scripts of the Redis registry backend. Each touches the keys of one service only (all
 * hash-tagged `{service}`, so one slot on a cluster), changes them atomically, and PUBLISHes the
 * resulting event in the same script: a change and its event can never be separated.
 *
 * An instance is a hash `doc` (JSON of the registration-fixed fields), `registeredAt`,
 * `lastHeartbeat`, `expiresAt`, `status`, `epoch`. Scripts return it as that 6-element array.
 * Numbers travel as decimal strings (computed in JS) so Lua never formats a timestamp.
 *
 * A published event is JSON with the doc last: `{"t","s","i","h","r","x","st","e","d"}`. What
 * comes before `,"d":` names the event (redis-keys.ts `eventIdentity`), so a gateway can tell a
 * copy or the echo of its own heartbeat without parsing the doc.
 *
 * Common layout of the instance scripts: KEYS[1] instance hash, KEYS[2] the service's expiry
 * sorted set; ARGV[1] event channel, ARGV[2] service, ARGV[3] instance id, ARGV[4] now (ms).
 *
 * Ownership (lib/registry/backends/owner-check.ts is the rule, in JS): the hash also holds
 * `owner` (SHA-256 hex of the instance token) and `src` (the registrant's address), never part of
 * the returned instance. A script given a proof (`check` = '1' and the presented hash) refuses a
 * live owned instance whose `owner` differs by returning -1. Plain `~=` on the digests is fine:
 * timing can at most reveal a prefix of a SHA-256, which gives nothing towards the token.
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
    msg = msg .. ',"h":' .. v[3] .. ',"r":' .. v[2] .. ',"x":' .. v[4] .. ',"st":"' .. v[5] .. '","e":' .. v[6] .. ',"d":' .. v[1]
  end
  redis.call('PUBLISH', ARGV[1], msg .. '}')
end
local function drop(key, zkey, id)
  redis.call('DEL', key)
  redis.call('ZREM', zkey, id)
end
local function owned_by_other(key, check, presented)
  if check ~= '1' then return false end
  local owner = redis.call('HGET', key, 'owner')
  return owner and owner ~= presented
end
local now = tonumber(ARGV[4])
`;

/**
 * KEYS[3]: the set of service names (standalone) or the service's `listed` mark (cluster: the set
 * lives in another slot, which a script may not touch). ARGV[5] doc JSON, ARGV[6] expiresAt,
 * ARGV[7] key PEXPIRE ms, ARGV[8] status; ownership: ARGV[9] new token hash ('' for an unowned
 * registration), ARGV[10] caller source, ARGV[11] check ('1'/'0'), ARGV[12] presented hash,
 * ARGV[13] reclaim (`key`|`source`|`none`); ARGV[14] `add` (KEYS[3] is the set: add the service
 * to it here) or `mark` (KEYS[3] is the mark: report whether it is set).
 * Returns the instance plus a 7th element, `0` when the caller must still add the service to
 * the set (and then set the mark), else `1`; or -1 when a live instance belongs to another
 * registration.
 */
export const REGISTER_LUA = `${PRELUDE}
local epoch = 1
local old = load(KEYS[1])
if old then
  if tonumber(old[4]) > now then
    if owned_by_other(KEYS[1], ARGV[11], ARGV[12]) and ARGV[13] ~= 'key' then
      local src = redis.call('HGET', KEYS[1], 'src')
      if not (ARGV[13] == 'source' and ARGV[10] ~= '' and src == ARGV[10]) then return -1 end
    end
    epoch = tonumber(old[6]) + 1
  else
    drop(KEYS[1], KEYS[2], ARGV[3])
    publish('expire', ARGV[2], ARGV[3], old)
  end
end
redis.call('HSET', KEYS[1], 'doc', ARGV[5], 'registeredAt', ARGV[4], 'lastHeartbeat', ARGV[4],
  'expiresAt', ARGV[6], 'status', ARGV[8], 'epoch', tostring(epoch))
redis.call('HDEL', KEYS[1], 'owner', 'src')
if ARGV[9] ~= '' then redis.call('HSET', KEYS[1], 'owner', ARGV[9]) end
if ARGV[9] ~= '' and ARGV[10] ~= '' then redis.call('HSET', KEYS[1], 'src', ARGV[10]) end
redis.call('PEXPIRE', KEYS[1], ARGV[7])
redis.call('ZADD', KEYS[2], ARGV[6], ARGV[3])
local listed = '1'
if ARGV[14] == 'add' then
  redis.call('SADD', KEYS[3], ARGV[2])
elseif redis.call('EXISTS', KEYS[3]) == 0 then
  listed = '0'
end
local v = load(KEYS[1])
publish('register', ARGV[2], ARGV[3], v)
v[7] = listed
return v
`;

/**
 * KEYS[1] the service's expiry sorted set, KEYS[2] its `listed` mark. The reaper's first step in
 * forgetting an empty service: deletes the mark (registrations then add the name to the set
 * again) and returns 1 when the service holds no instance, else 0 and changes nothing.
 */
export const UNLIST_LUA = `
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('DEL', KEYS[2])
return 1
`;

/**
 * ARGV[5] expiresAt, ARGV[6] key PEXPIRE ms, ARGV[7] check, ARGV[8] presented hash. Returns the
 * instance, -1 when it belongs to another registration, or nil when it is unknown or
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
if owned_by_other(KEYS[1], ARGV[7], ARGV[8]) then return -1 end
redis.call('HSET', KEYS[1], 'lastHeartbeat', ARGV[4], 'expiresAt', ARGV[5])
redis.call('PEXPIRE', KEYS[1], ARGV[6])
redis.call('ZADD', KEYS[2], ARGV[5], ARGV[3])
v = load(KEYS[1])
publish('heartbeat', ARGV[2], ARGV[3], v)
return v
`;

/** ARGV[5] check, ARGV[6] presented hash. Returns 1 when a live instance was removed, -1 when it is someone else's, else 0. */
export const DEREGISTER_LUA = `${PRELUDE}
local v = load(KEYS[1])
if not v then return 0 end
if tonumber(v[4]) <= now then
  drop(KEYS[1], KEYS[2], ARGV[3])
  publish('expire', ARGV[2], ARGV[3], v)
  return 0
end
if owned_by_other(KEYS[1], ARGV[5], ARGV[6]) then return -1 end
drop(KEYS[1], KEYS[2], ARGV[3])
publish('deregister', ARGV[2], ARGV[3], v)
return 1
`;

/** ARGV[5] status, ARGV[6] check, ARGV[7] presented hash. Returns the instance (an event only when the status changed), -1 when it is someone else's, or nil. */
export const SET_STATUS_LUA = `${PRELUDE}
local v = load(KEYS[1])
if not v then return nil end
if tonumber(v[4]) <= now then
  drop(KEYS[1], KEYS[2], ARGV[3])
  publish('expire', ARGV[2], ARGV[3], v)
  return nil
end
if owned_by_other(KEYS[1], ARGV[6], ARGV[7]) then return -1 end
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
 * Returns { reaped, examined, members left, the earliest score left ('' when none) }.
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
local first = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
return { reaped, #ids, redis.call('ZCARD', KEYS[1]), first[2] or '' }
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

/**
 * KEYS[1] the route-claims hash, KEYS[2] its change log (a sorted set: service → the version that
 * last wrote its claim); ARGV[1] the version the reader holds ('' for none). Returns
 * `{ version, 'none' }` when nothing changed, `{ version, 'delta', service, claim, ... }` with
 * the claims written since, or `{ version, 'full', field, value, ... }` (the whole hash, `~v`
 * included) when the reader holds nothing, the hash went back (a flushed store), or the log does
 * not cover the change.
 */
export const CLAIMS_SINCE_LUA = `
local v = redis.call('HGET', KEYS[1], '~v') or ''
if ARGV[1] ~= '' and v == ARGV[1] then return { v, 'none' } end
if ARGV[1] ~= '' and v ~= '' and tonumber(v) > tonumber(ARGV[1]) then
  local changed = redis.call('ZRANGEBYSCORE', KEYS[2], '(' .. ARGV[1], '+inf')
  if #changed > 0 then
    local out = { v, 'delta' }
    for _, s in ipairs(changed) do
      out[#out + 1] = s
      out[#out + 1] = redis.call('HGET', KEYS[1], s) or ''
    end
    return out
  end
end
local out = { v, 'full' }
local all = redis.call('HGETALL', KEYS[1])
for i = 1, #all do out[#out + 1] = all[i] end
return out
`;

/**
 * KEYS[1] the route-claims hash, KEYS[2] its change log; ARGV[1] the version read ('' when
 * none), then pairs of service and claim JSON. Writes every claim, bumps the version once and
 * logs each service at it, only if nobody changed the hash since it was read
 * (lib/registry/backends/store-claim-queue.ts decides the claims): the new version, else nil.
 */
export const CLAIMS_WRITE_LUA = `
local v = redis.call('HGET', KEYS[1], '~v')
if (v or '') ~= ARGV[1] then return nil end
local nv = redis.call('HINCRBY', KEYS[1], '~v', 1)
for i = 2, #ARGV, 2 do
  redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1])
  redis.call('ZADD', KEYS[2], nv, ARGV[i])
end
return tostring(nv)
`;
