-- Every state change of a challenge, atomically with the event that announces it.
-- The tenant's event stream is the outbox: a change and its event are one step or neither.
-- Attempts, expiry and terminal states are enforced here, never before the call.
--
-- ARGV[1] = operation, ARGV[2] = now (ms), ARGV[3] = oldest event id to keep (stream MINID)
--   cancel:  KEYS = challenge, pending set, events
--            a challenge canceled already answers 'canceled' again (a retried cancel)
--   expire:  KEYS = challenge, pending set, events;  ARGV[4] = cutoff: expire if expires_at <= cutoff
--   match:   KEYS = events, seen marker, pending set, challenge...
--            ARGV[4] = accepted_at (ms), ARGV[5] = seen marker TTL (ms),
--            ARGV[6] = mode: 'all' commits whatever the SMS does; 'verifying' commits only
--                      when it verifies a challenge, else writes nothing and answers 'held'
--            then groups: spec, count, candidate hash × count  (candidates in text order)
--            answers 'duplicate' + what the first application did ('verified' or 'applied')
--            for a provider message applied before, else 'applied' + per challenge
--            (id, status, attempts, event id or '')
--   create:  KEYS = challenge, pending set;  ARGV[4] = keep the challenge until (ms),
--            ARGV[5] = keep the pending set at least until (ms), ARGV[6] = challenge id,
--            then field, value pairs of the new record: written whole, with its pending entry
--   route:   KEYS = the route set (tenants with pending challenges for a sender and number),
--            the SMS's judgement record;  ARGV[2] = record TTL (ms)
--            answers the tenants the SMS is judged against, fixed at its first judgement:
--            a redelivery days later meets the same tenants, not the challenges opened since

local op, now, min_id = ARGV[1], ARGV[2], ARGV[3]

local function load(key)
  local flat = redis.call('HGETALL', key)
  if #flat == 0 then return nil end
  local record = {}
  for i = 1, #flat, 2 do record[flat[i]] = flat[i + 1] end
  record.attempts = tonumber(record.attempts)
  record.max_attempts = tonumber(record.max_attempts)
  return record
end

-- Compares two keyed hashes without an early exit.
local function same_hash(a, b)
  if #a ~= #b then return false end
  local diff = 0
  for i = 1, #a do diff = bit.bor(diff, bit.bxor(string.byte(a, i), string.byte(b, i))) end
  return diff == 0
end

-- Writes the challenge's new status and attempts, leaves the pending set when terminal,
-- and appends the event; returns the event's stream id (the tenant's cursor).
local function transition(ch_key, pending_key, events_key, ch, status, event_type)
  ch.status = status
  redis.call('HSET', ch_key, 'status', status, 'attempts', ch.attempts)
  if status == 'verified' then
    ch.verified_at = now
    redis.call('HSET', ch_key, 'verified_at', now)
  end
  if status ~= 'pending' then redis.call('SREM', pending_key, ch.id) end
  local id = redis.call('XADD', events_key, 'MINID', '~', min_id, '*',
    'type', event_type, 'challenge_id', ch.id, 'external_id', ch.external_id or '',
    'status', status, 'attempts', ch.attempts, 'max_attempts', ch.max_attempts,
    'phone', ch.phone, 'virtual_number', ch.virtual_number, 'occurred_at', now,
    'verified_at', ch.verified_at or '')
  redis.call('HSET', ch_key, 'last_event_id', id)
  return id
end

if op == 'route' then
  local fixed = redis.call('GET', KEYS[2])
  if fixed then return fixed end
  local tenants = redis.call('SMEMBERS', KEYS[1])
  table.sort(tenants)
  local joined = table.concat(tenants, ',')
  redis.call('SET', KEYS[2], joined, 'PX', ARGV[2])
  return joined
end

if op == 'create' then
  redis.call('HSET', KEYS[1], unpack(ARGV, 7))
  redis.call('PEXPIREAT', KEYS[1], ARGV[4])
  redis.call('SADD', KEYS[2], ARGV[6])
  redis.call('PEXPIREAT', KEYS[2], ARGV[5], 'GT')
  redis.call('PEXPIREAT', KEYS[2], ARGV[5], 'NX')
  return 'created'
end

if op == 'cancel' then
  local ch = load(KEYS[1])
  if not ch then return {'missing'} end
  if ch.status == 'canceled' then return {'canceled', ch.last_event_id or ''} end
  if ch.status ~= 'pending' then return {'conflict', ch.status} end
  return {'canceled', transition(KEYS[1], KEYS[2], KEYS[3], ch, 'canceled', 'challenge.canceled')}
end

if op == 'expire' then
  local ch = load(KEYS[1])
  if not ch then return {'missing'} end
  if ch.status ~= 'pending' or tonumber(ch.expires_at) > tonumber(ARGV[4]) then
    return {'unchanged', ch.status}
  end
  return {'expired', transition(KEYS[1], KEYS[2], KEYS[3], ch, 'expired', 'challenge.expired')}
end

if op ~= 'match' then return redis.error_reply('unknown operation ' .. tostring(op)) end

local events_key, seen_key, pending_key = KEYS[1], KEYS[2], KEYS[3]
local accepted_at, mode = tonumber(ARGV[4]), ARGV[6]
-- The same provider message applied twice changes nothing the second time.
local first = redis.call('GET', seen_key)
if first then return {'duplicate', first} end

local candidates = {}
local i = 7
while i <= #ARGV do
  local spec, count = ARGV[i], tonumber(ARGV[i + 1])
  local list = {}
  for j = 1, count do list[j] = ARGV[i + 1 + j] end
  candidates[spec] = list
  i = i + 2 + count
end

-- Decide first, write after: in 'verifying' mode nothing is written unless a challenge is verified.
local plan = {}  -- {challenge, status, event type or nil}
local considered = {}
for k = 4, #KEYS do
  local ch = load(KEYS[k])
  if ch and ch.status == 'pending' and redis.call('SISMEMBER', pending_key, ch.id) == 1 then
    ch.key = KEYS[k]
    if tonumber(ch.expires_at) < accepted_at then
      -- Sent too late for this challenge: it is expired, whatever the text says.
      table.insert(plan, {ch, 'expired', 'challenge.expired'})
    else
      table.insert(considered, ch)
    end
  end
end

-- A candidate that is some considered challenge's code is no wrong guess for the others.
local function is_some_code(hash)
  for _, other in ipairs(considered) do
    if same_hash(hash, other.code_hash) then return true end
  end
  return false
end

local any_verified = false
for _, ch in ipairs(considered) do
  local list = candidates[ch.alphabet .. ':' .. ch.code_length] or {}
  local before, verified = ch.attempts, false
  if #list == 0 then
    ch.attempts = ch.attempts + 1  -- a text with no candidate still costs an attempt
  else
    for _, hash in ipairs(list) do
      if same_hash(hash, ch.code_hash) then
        ch.attempts = ch.attempts + 1
        verified = true
        break
      elseif not is_some_code(hash) then
        ch.attempts = ch.attempts + 1
        if ch.attempts >= ch.max_attempts then break end
      end
    end
  end
  if verified then
    any_verified = true
    table.insert(plan, {ch, 'verified', 'challenge.verified'})
  elseif ch.attempts >= ch.max_attempts then
    table.insert(plan, {ch, 'failed', 'challenge.failed'})
  elseif ch.attempts > before then
    table.insert(plan, {ch, 'pending', 'challenge.attempt_failed'})
  else
    table.insert(plan, {ch, 'pending', nil})
  end
end

if mode == 'verifying' and not any_verified then return {'held'} end
redis.call('SET', seen_key, any_verified and 'verified' or 'applied', 'PX', ARGV[5])

local flat = {'applied'}
for _, step in ipairs(plan) do
  local ch, status, event_type = step[1], step[2], step[3]
  local id = ''
  if event_type then id = transition(ch.key, pending_key, events_key, ch, status, event_type) end
  for _, v in ipairs({ch.id, ch.status, ch.attempts, id}) do table.insert(flat, tostring(v)) end
end
return flat
