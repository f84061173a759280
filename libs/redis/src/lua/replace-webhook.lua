-- replace-webhook: replaces a definition only while it still exists, so a concurrent DELETE is
-- never undone. KEYS[1] the bot's webhook definitions. ARGV[1] name, ARGV[2] definition JSON.
-- Returns 1 when replaced, 0 when the webhook is gone.
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
return 1
