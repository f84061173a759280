-- call-transition: the only writer of a call's status. Every role moves a call through it:
--   the API creates it (queued) and replays it (failed -> queued, run + 1); the worker marks an
--   attempt running once it has been out a while, and retrying; the results consumer ends it
--   (succeeded or failed).
-- KEYS[1] the call's record (hash), KEYS[2] the call's attempt log (list), KEYS[3] the copy of the
--   event of its last ended run (string); one slot: the call's.
-- ARGV[1] transition: 'create' | 'advance' | 'replay'
-- ARGV[2] run: the run this write belongs to (for 'replay', the new run)
-- ARGV[3] ttlSeconds for the record and the log
-- ARGV[4] an attempt-log entry (JSON) to append, or ''
-- ARGV[5] fields to clear, space-separated, or ''
-- ARGV[6] the event that ends the run (JSON) to keep as the copy, or ''; ARGV[7] its ttlSeconds
-- ARGV[8..] field, value pairs to set (status among them)
-- A replay deletes the copy: the old run's event no longer answers a waited enqueue.
-- Rules, so that writes arriving late or twice never move a call backwards:
--   create  only when the call has no record yet (the worker may have written it first);
--   advance only for the record's run or a newer one, and never once that run has ended;
--   replay  only from 'failed' at run - 1; the last attempt moves to the log.
-- Returns 1 when written; otherwise the record's status (or false when there is no record).
local transition, run = ARGV[1], tonumber(ARGV[2])
local current = redis.call('HMGET', KEYS[1], 'status', 'run')
local status, currentRun = current[1], tonumber(current[2])
if transition == 'create' then
  if status then return status end
elseif transition == 'replay' then
  if status ~= 'failed' or currentRun ~= run - 1 then return status end
  local last = redis.call('HGET', KEYS[1], 'lastAttempt')
  if last then redis.call('RPUSH', KEYS[2], last) end
  redis.call('DEL', KEYS[3])
elseif status then
  -- A record written by a role that did not know the run yet has none: any run may advance it.
  if currentRun and currentRun > run then return status end
  if currentRun == run and (status == 'succeeded' or status == 'failed') then return status end
end
if ARGV[4] ~= '' then redis.call('RPUSH', KEYS[2], ARGV[4]) end
if ARGV[5] ~= '' then
  for field in string.gmatch(ARGV[5], '%S+') do redis.call('HDEL', KEYS[1], field) end
end
if ARGV[6] ~= '' then redis.call('SET', KEYS[3], ARGV[6], 'EX', ARGV[7]) end
redis.call('HSET', KEYS[1], unpack(ARGV, 8))
redis.call('EXPIRE', KEYS[1], ARGV[3])
redis.call('EXPIRE', KEYS[2], ARGV[3])
return 1
