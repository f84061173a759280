-- publish-event: appends an event to the stream and publishes it, once per call run (or turn).
-- KEYS[1] published-marker, KEYS[2] events stream (one slot: the stream's)
-- ARGV[1] markerTtlSeconds, ARGV[2] streamMaxLen, ARGV[3] channel, ARGV[4] eventJson,
--   ARGV[5] type, ARGV[6] botId, ARGV[7] the subject's field (`callId` or `turnId`), ARGV[8] its id
-- Exactly one event per call even when the results consumer dies after publishing and the result
-- is applied again. Returns 1 when published now, 0 when it had been already.
if not redis.call('SET', KEYS[1], '1', 'NX', 'EX', ARGV[1]) then return 0 end
redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[2], '*',
  'type', ARGV[5], 'botId', ARGV[6], ARGV[7], ARGV[8], 'event', ARGV[4])
redis.call('PUBLISH', ARGV[3], ARGV[4])
return 1
