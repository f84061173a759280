-- rotate-signing-secret: moves the current secret to `previous` (still signing until its grace
-- ends) and installs the new one, atomically.
-- KEYS[1] the bot's signing secrets. ARGV[1] sealed new secret, ARGV[2] createdAt (ISO),
--   ARGV[3] previousExpiresAt (epoch ms).
-- Returns 1 when a previous secret was kept for its grace period, 0 for a bot's first secret.
local current = redis.call('HGET', KEYS[1], 'current')
if current then
  redis.call('HSET', KEYS[1], 'previous', current, 'previousExpiresAt', ARGV[3])
end
redis.call('HSET', KEYS[1], 'current', ARGV[1], 'createdAt', ARGV[2])
return current and 1 or 0
