-- release-idempotency-key: drops a claimed idempotency key only if it still names our call, so a
-- request whose enqueue failed never frees a key another request has claimed since.
-- KEYS[1] the idempotency key. ARGV[1] callId. Returns 1 when dropped, 0 otherwise.
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
