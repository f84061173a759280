/**
 * Lua scripts, each touching keys of one hash slot (see keys.ts).
 *
 * merge-state: KEYS = session, profile, applied-marker.
 *   ARGV = sessionTtlSeconds, markerTtlSeconds, maxFields, nMemory, (field, json|"")*, nAttributes, (field, json|"")*
 *   An empty value deletes the field (a JSON encoding is never empty). The first run merges, refreshes
 *   the session's idle expiry and stores the state after the merge in the marker; any later run for the
 *   same call returns that stored state and changes nothing, so a replay after a crash never merges
 *   twice (a delete-then-set cannot be replayed out of order). A merge that would leave the session or
 *   the profile with more than maxFields keys changes nothing and is refused ("rejected": "memory" or
 *   "profile"), remembered by the marker the same way. Returns the JSON
 *   {"memory": [field, json, ...], "profile": [...], "rejected"?: ...}.
 */
export const MERGE_STATE_LUA = `
local stored = redis.call('GET', KEYS[3])
if stored then return stored end
local maxFields = tonumber(ARGV[3])
local names = { 'memory', 'profile' }
local i = 5
for k, key in ipairs({KEYS[1], KEYS[2]}) do
  local n, size = tonumber(ARGV[i - 1]), redis.call('HLEN', key)
  for j = 0, n - 1 do
    local exists = redis.call('HEXISTS', key, ARGV[i + 2 * j]) == 1
    if ARGV[i + 2 * j + 1] == '' then
      if exists then size = size - 1 end
    elseif not exists then
      size = size + 1
    end
  end
  if size > maxFields then
    local state = cjson.encode({ memory = redis.call('HGETALL', KEYS[1]), profile = redis.call('HGETALL', KEYS[2]), rejected = names[k] })
    redis.call('SET', KEYS[3], state, 'EX', ARGV[2])
    return state
  end
  i = i + 2 * n + 1
end
i = 5
for _, key in ipairs({KEYS[1], KEYS[2]}) do
  local n = tonumber(ARGV[i - 1])
  for j = 0, n - 1 do
    local field, value = ARGV[i + 2 * j], ARGV[i + 2 * j + 1]
    if value == '' then redis.call('HDEL', key, field) else redis.call('HSET', key, field, value) end
  end
  i = i + 2 * n + 1
end
if redis.call('EXISTS', KEYS[1]) == 1 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
local state = cjson.encode({ memory = redis.call('HGETALL', KEYS[1]), profile = redis.call('HGETALL', KEYS[2]) })
redis.call('SET', KEYS[3], state, 'EX', ARGV[2])
return state
`;

/**
 * publish-event: KEYS = published-marker, events stream.
 *   ARGV = markerTtlSeconds, streamMaxLen, channel, eventJson, type, botId, callId
 * Publishes and appends the event only if this call's run has not been published yet: exactly one
 * event per call even when the results consumer dies after publishing and the job runs again.
 * Returns 1 when published now, 0 when it had been already.
 */
export const PUBLISH_EVENT_LUA = `
if not redis.call('SET', KEYS[1], '1', 'NX', 'EX', ARGV[1]) then return 0 end
redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[2], '*', 'type', ARGV[5], 'botId', ARGV[6], 'callId', ARGV[7], 'event', ARGV[4])
redis.call('PUBLISH', ARGV[3], ARGV[4])
return 1
`;

/**
 * admit-calls: KEYS = the bot's rate bucket, the bot's webhook definitions, the bot's pending calls (one slot: the bot's).
 *   ARGV = perSecond (0: no limit), burst, now (ms), pendingSince (ms), nNames, name*, (callId, nameIndex)*
 * Reads the named definitions, then takes one token per call whose webhook exists from a bucket
 * refilled at perSecond up to burst, on Redis's clock so every API process shares it: all in the
 * one round trip enqueue needs anyway. Calls to unknown webhooks cost nothing, and a refusal
 * changes nothing. The calls admitted join the bot's pending calls (member `<now>:<callId>`,
 * score its rank): in call order, ranks follow the highest rank still pending (0 when none), so
 * a bot's ranks only grow while it has a backlog and start over once it drains. Pending calls
 * older than pendingSince are dropped first (their end may never have been reported).
 * Returns {1, rankBefore, definitions...} (in ARGV's name order) or {0, msUntilEnoughTokens}.
 */
export const ADMIT_CALLS_LUA = `
local rate, burst, now, since = tonumber(ARGV[1]), tonumber(ARGV[2]), ARGV[3], tonumber(ARGV[4])
local nNames = tonumber(ARGV[5])
local names = {}
for j = 1, nNames do names[j] = ARGV[5 + j] end
local out = redis.call('HMGET', KEYS[2], unpack(names))
local first = 6 + nNames
local cost = 0
for k = first, #ARGV, 2 do
  if out[tonumber(ARGV[k + 1])] then cost = cost + 1 end
end
if rate > 0 and cost > 0 then
  local t = redis.call('TIME')
  local tnow = t[1] * 1000 + math.floor(t[2] / 1000)
  local b = redis.call('HMGET', KEYS[1], 'tokens', 'at')
  local tokens = tonumber(b[1]) or burst
  local at = tonumber(b[2]) or tnow
  tokens = math.min(burst, tokens + math.max(0, tnow - at) * rate / 1000)
  if tokens < cost then return {0, math.ceil((cost - tokens) * 1000 / rate)} end
  redis.call('HSET', KEYS[1], 'tokens', tostring(tokens - cost), 'at', tostring(tnow))
  redis.call('PEXPIRE', KEYS[1], math.ceil(burst * 1000 / rate) + 1000)
end
-- Ranks grow with enqueue order, so the lowest-ranked pending call is the oldest.
for _ = 1, 100 do
  local oldest = redis.call('ZRANGE', KEYS[3], 0, 0)
  if #oldest == 0 or (tonumber(string.match(oldest[1], '^(%d+):')) or 0) >= since then break end
  redis.call('ZREM', KEYS[3], oldest[1])
end
local top = redis.call('ZREVRANGE', KEYS[3], 0, 0, 'WITHSCORES')
local base = 0
if #top > 0 then base = tonumber(top[2]) end
if cost > 0 then
  local members, rank = {}, base
  for k = first, #ARGV, 2 do
    if out[tonumber(ARGV[k + 1])] then
      rank = rank + 1
      members[#members + 1] = rank
      members[#members + 1] = now .. ':' .. ARGV[k]
    end
  end
  for k = 1, #members, 7000 do
    redis.call('ZADD', KEYS[3], unpack(members, k, math.min(k + 6999, #members)))
  end
  redis.call('PEXPIRE', KEYS[3], tonumber(now) - since)
end
table.insert(out, 1, base)
table.insert(out, 1, 1)
return out
`;
