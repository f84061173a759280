-- admit-calls: reads the named webhook definitions, takes the bot's rate-limit tokens and records
-- the admitted calls among the bot's pending calls.
-- KEYS[1] the bot's rate bucket, KEYS[2] the bot's webhook definitions, KEYS[3] the bot's pending
--   calls (one slot: the bot's)
-- ARGV[1] perSecond (0: no limit), ARGV[2] burst, ARGV[3] now (ms), ARGV[4] pendingSince (ms),
--   then (name, callsNamingIt, callId * callsNamingIt)*
-- Takes one token per call whose webhook exists from a bucket refilled at perSecond up to burst,
-- on Redis's clock so every API process shares it: all in the one round trip enqueue needs anyway.
-- Calls to unknown webhooks cost nothing, and a refusal changes nothing. Admitted calls join the
-- bot's pending calls (callId -> now), after those older than pendingSince are dropped (a call
-- whose end was never reported stops counting); the count before them ranks the bot's new calls
-- behind its backlog (fair priority).
-- Returns {1, pendingBefore, definition|false ...} (in ARGV's name order) or {0, msUntilEnoughTokens}.
local rate, burst, now = tonumber(ARGV[1]), tonumber(ARGV[2]), ARGV[3]
local names, firsts, counts = {}, {}, {}
local i = 5
while i <= #ARGV do
  local n = #names + 1
  names[n], counts[n], firsts[n] = ARGV[i], tonumber(ARGV[i + 1]), i + 2
  i = i + 2 + tonumber(ARGV[i + 1])
end
local out = redis.call('HMGET', KEYS[2], unpack(names))
local cost = 0
for j = 1, #names do
  if out[j] then cost = cost + counts[j] end
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
redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', '(' .. ARGV[4])
local pending = redis.call('ZCARD', KEYS[3])
if cost > 0 then
  local members = {}
  for j = 1, #names do
    if out[j] then
      for k = firsts[j], firsts[j] + counts[j] - 1 do
        members[#members + 1] = now
        members[#members + 1] = ARGV[k]
      end
    end
  end
  for k = 1, #members, 7000 do
    redis.call('ZADD', KEYS[3], unpack(members, k, math.min(k + 6999, #members)))
  end
  redis.call('PEXPIRE', KEYS[3], tonumber(now) - tonumber(ARGV[4]))
end
table.insert(out, 1, pending)
table.insert(out, 1, 1)
return out
