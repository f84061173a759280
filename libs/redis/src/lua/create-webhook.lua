-- create-webhook: stores a definition only when the name is free and the bot is under its limit.
-- KEYS[1] the bot's webhook definitions. ARGV[1] name, ARGV[2] definition JSON, ARGV[3] maxWebhooks.
-- Returns 'ok', 'exists' or 'limit'.
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 1 then return 'exists' end
if redis.call('HLEN', KEYS[1]) >= tonumber(ARGV[3]) then return 'limit' end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
return 'ok'
