-- turn-part: keeps one ended call of a turn and says whether the turn is complete.
-- KEYS[1] the turn's parts hash (one key: any slot)
-- ARGV[1] index of the call in the turn (1-based), ARGV[2] partJson, ARGV[3] size (calls in the
--   turn), ARGV[4] ttlSeconds
-- A part is written once: a result applied again after a crash keeps the first. Returns every
-- part in declared order once all `size` are in (to whichever call comes last, and to any of them
-- applied again after that), or nil while some call has not ended.
redis.call('HSETNX', KEYS[1], ARGV[1], ARGV[2])
redis.call('EXPIRE', KEYS[1], ARGV[4])
local fields = {}
for i = 1, tonumber(ARGV[3]) do fields[i] = tostring(i) end
local parts = redis.call('HMGET', KEYS[1], unpack(fields))
for i = 1, #parts do
  if not parts[i] then return nil end
end
return parts
