-- admit-calls: reads the named webhook definitions and takes the bot's rate-limit tokens.
-- KEYS[1] the bot's rate bucket, KEYS[2] the bot's webhook definitions (one slot: the bot's)
-- ARGV[1] perSecond (0: no limit), ARGV[2] burst, then (name, callsNamingIt)*
-- Takes one token per call whose webhook exists from a bucket refilled at perSecond up to burst,
-- on Redis's clock so every API process shares it: all in the one round trip enqueue needs anyway.
-- Calls to unknown webhooks cost nothing, and a refusal changes nothing.
-- Returns {1, definition|false ...} (in ARGV's name order) or {0, msUntilEnoughTokens}.
local rate, burst = tonumber(ARGV[1]), tonumber(ARGV[2])
local names = {}
for i = 3, #ARGV, 2 do names[#names + 1] = ARGV[i] end
local out = redis.call('HMGET', KEYS[2], unpack(names))
local cost = 0
for i = 1, #names do
  if out[i] then cost = cost + tonumber(ARGV[2 + 2 * i]) end
end
if rate > 0 and cost > 0 then
  local t = redis.call('TIME')
  local now = t[1] * 1000 + math.floor(t[2] / 1000)
  local b = redis.call('HMGET', KEYS[1], 'tokens', 'at')
  local tokens = tonumber(b[1]) or burst
  local at = tonumber(b[2]) or now
  tokens = math.min(burst, tokens + math.max(0, now - at) * rate / 1000)
  if tokens < cost then return {0, math.ceil((cost - tokens) * 1000 / rate)} end
  redis.call('HSET', KEYS[1], 'tokens', tostring(tokens - cost), 'at', tostring(now))
  redis.call('PEXPIRE', KEYS[1], math.ceil(burst * 1000 / rate) + 1000)
end
table.insert(out, 1, 1)
return out
