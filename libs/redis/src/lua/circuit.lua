--[[
  circuit: the circuit breaker of one origin, shared by every worker (rules: libs/isolation/src/circuit.ts).
  KEYS[1] = the origin's circuit hash (keys.circuit(origin)); one key, so one slot.
  ARGV[1] = op: 'admit' (may an attempt go out? hands out a probe permit when half-open),
                'record' (count a finished attempt), 'read' (the state, changing nothing)
  ARGV[2] = now (epoch ms, the caller's clock), ARGV[3] = windowMs, ARGV[4] = minAttempts,
  ARGV[5] = failurePercent, ARGV[6] = openMs, ARGV[7] = halfOpenProbes,
  ARGV[8] = record: how many of the attempts failed (timeout, network, 5xx), ARGV[9] = record: 1 when it was a probe,
  ARGV[10] = record: how many attempts (default 1; a worker sends the outcomes that ended while its last record was
             under way in one call: never a probe's, which is recorded alone)
  Returns {state, openedAt (-1: none), reopensAt (-1: none), attempts, failures, allowed (0|1), probe (0|1),
           transition ('' or the new state)}
  Fields: state, openedAt, reopensAt, probes, halfOpenAt, b0..b5 ("index:attempts:failures").
  The key expires windowMs + 2 × openMs after its last write: an origin nobody calls leaves nothing behind.
]]
local BUCKETS = 6
local op, now = ARGV[1], tonumber(ARGV[2])
local windowMs, minAttempts, failurePercent = tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])
local openMs, maxProbes = tonumber(ARGV[6]), tonumber(ARGV[7])
local bucketMs = math.ceil(windowMs / BUCKETS)
local current = math.floor(now / bucketMs)

local f = redis.call('HMGET', KEYS[1], 'state', 'openedAt', 'reopensAt', 'probes', 'halfOpenAt',
  'b0', 'b1', 'b2', 'b3', 'b4', 'b5')
local state = f[1] or 'closed'
local openedAt, reopensAt = tonumber(f[2]) or -1, tonumber(f[3]) or -1
local probes, halfOpenAt = tonumber(f[4]) or 0, tonumber(f[5]) or 0
local buckets = {}
for i = 0, BUCKETS - 1 do
  local raw = f[6 + i]
  if raw then
    local index, attempts, failures = string.match(raw, '^(%-?%d+):(%d+):(%d+)$')
    buckets[i] = { tonumber(index), tonumber(attempts), tonumber(failures) }
  end
end

local function counts()
  local attempts, failures = 0, 0
  for i = 0, BUCKETS - 1 do
    local b = buckets[i]
    if b and b[1] > current - BUCKETS and b[1] <= current then
      attempts, failures = attempts + b[2], failures + b[3]
    end
  end
  return attempts, failures
end

local function reply(allowed, probe, transition)
  local attempts, failures = counts()
  return { state, openedAt, reopensAt, attempts, failures, allowed, probe, transition }
end

local function save()
  redis.call('DEL', KEYS[1])
  local fields = { 'state', state }
  if state ~= 'closed' then
    table.insert(fields, 'openedAt'); table.insert(fields, openedAt)
    table.insert(fields, 'reopensAt'); table.insert(fields, reopensAt)
    table.insert(fields, 'probes'); table.insert(fields, probes)
    table.insert(fields, 'halfOpenAt'); table.insert(fields, halfOpenAt)
  end
  for i = 0, BUCKETS - 1 do
    local b = buckets[i]
    if b then table.insert(fields, 'b' .. i); table.insert(fields, b[1] .. ':' .. b[2] .. ':' .. b[3]) end
  end
  redis.call('HSET', KEYS[1], unpack(fields))
  redis.call('PEXPIRE', KEYS[1], windowMs + 2 * openMs)
end

-- The window is kept while open (the health shows what opened it) and emptied when the circuit closes.
local function open()
  state, openedAt, reopensAt, probes, halfOpenAt = 'open', now, now + openMs, 0, 0
end

if op == 'read' then
  if state == 'open' and now >= reopensAt then state = 'half_open' end
  return reply(0, 0, '')
end

if op == 'admit' then
  if state == 'closed' then return reply(1, 0, '') end
  local transition = ''
  if state == 'open' then
    if now < reopensAt then return reply(0, 0, '') end
    state, probes, halfOpenAt, transition = 'half_open', 0, now, 'half_open'
  end
  if probes >= maxProbes and now - halfOpenAt >= openMs then probes, halfOpenAt = 0, now end
  if probes < maxProbes then
    probes = probes + 1
    save()
    return reply(1, 1, transition)
  end
  if transition ~= '' then save() end
  return reply(0, 0, transition)
end

-- op == 'record'
local failures, probe = tonumber(ARGV[8]), ARGV[9] == '1'
local failed, attempted = failures > 0, tonumber(ARGV[10] or '1')
if state == 'open' or (state == 'half_open' and not probe) then return reply(0, 0, '') end
if state == 'half_open' then
  if failed then
    open()
    save()
    return reply(0, 0, 'open')
  end
  state, openedAt, reopensAt, probes, halfOpenAt, buckets = 'closed', -1, -1, 0, 0, {}
  save()
  return reply(0, 0, 'closed')
end
local slot = current % BUCKETS
local b = buckets[slot]
if not b or b[1] ~= current then b = { current, 0, 0 } end
b[2] = b[2] + attempted
b[3] = b[3] + failures
buckets[slot] = b
local attempts, failures = counts()
if attempts >= minAttempts and failures * 100 >= failurePercent * attempts then
  open()
  save()
  return reply(0, 0, 'open')
end
save()
return reply(0, 0, '')
