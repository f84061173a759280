-- merge-state: merges a call's reply into the user's session memory and profile, once per call run.
-- KEYS[1] session hash, KEYS[2] profile hash, KEYS[3] applied-marker (all in the user's slot)
-- ARGV[1] sessionTtlSeconds, ARGV[2] markerTtlSeconds, ARGV[3] maxFields,
--   ARGV[4] nMemory, (field, json|"")*, then nAttributes, (field, json|"")*
-- An empty value deletes the field (a JSON encoding is never empty). The first run merges, refreshes
-- the session's idle expiry and stores the state after the merge in the marker; any later run for
-- the same call returns that stored state and changes nothing, so a replay after a crash never
-- merges twice (a delete-then-set cannot be replayed out of order). A merge that would leave the
-- session or the profile with more than maxFields keys changes nothing and is refused ("rejected":
-- "memory" or "profile"), remembered by the marker the same way.
-- Returns JSON {"memory": [field, json, ...], "profile": [...], "rejected"?: ...}.
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
    local state = cjson.encode({
      memory = redis.call('HGETALL', KEYS[1]), profile = redis.call('HGETALL', KEYS[2]), rejected = names[k]
    })
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
