-- admit-calls: reads the named webhook definitions, takes the bot's rate-limit tokens and ranks
-- the admitted calls among the bot's pending calls.
-- KEYS[1] the bot's rate bucket, KEYS[2] the bot's webhook definitions, KEYS[3] the bot's pending
--   calls (one slot: the bot's)
-- ARGV[1] perSecond (0: no limit), ARGV[2] burst, ARGV[3] now (ms), ARGV[4] pendingSince (ms),
--   ARGV[5] allOrNothing (1: a turn's calls, admitted only if every named webhook exists),
--   ARGV[6] nNames, then name * nNames, then (callId, nameIndex)*
-- Takes one token per call whose webhook exists from a bucket refilled at perSecond up to burst,
-- on Redis's clock so every API process shares it: all in the one round trip enqueue needs anyway.
-- Calls to unknown webhooks cost nothing, and a refusal changes nothing. The calls admitted join
-- the bot's pending calls (member `<now>:<callId>`, score its rank): in call order, ranks follow
-- the highest rank still pending (0 when none), so a bot's ranks only grow while it has a backlog
-- and start over once it drains. Pending calls older than pendingSince are dropped first (their
-- end may never have been reported).
-- With allOrNothing, a call to an unknown webhook admits none: no token taken, no call ranked.
-- Returns {1, rankBefore, definition|false ...} (in ARGV's name order) or {0, msUntilEnoughTokens}.
local rate, burst, now, since = tonumber(ARGV[1]), tonumber(ARGV[2]), ARGV[3], tonumber(ARGV[4])
local allOrNothing, nNames = ARGV[5] == '1', tonumber(ARGV[6])
local names = {}
for j = 1, nNames do names[j] = ARGV[6 + j] end
local out = redis.call('HMGET', KEYS[2], unpack(names))
local first = 7 + nNames
if allOrNothing then
  for j = 1, nNames do
    if not out[j] then
      table.insert(out, 1, 0)
      table.insert(out, 1, 1)
      return out
    end
  end
end
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
