-- Every state change of a challenge, atomically with the event that announces it.
-- The tenant's event stream is the outbox: a change and its event are one step or neither.
-- Attempts, expiry and terminal states are enforced here, never before the call.
--
-- ARGV[1] = operation, ARGV[2] = now (ms), ARGV[3] = oldest event id to keep (stream MINID)
--   cancel:  KEYS = challenge, pending set, events
--   expire:  KEYS = challenge, pending set, events;  ARGV[4] = cutoff: expire if expires_at <= cutoff
--   match:   KEYS = events, seen marker, pending set, challenge...
--            ARGV[4] = accepted_at (ms), ARGV[5] = seen marker TTL (ms),
--            then groups: spec, count, candidate hash × count  (candidates in text order)

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

if op == 'cancel' then
  local ch = load(KEYS[1])
  if not ch then return {'missing'} end
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
local accepted_at = tonumber(ARGV[4])
-- The same provider message applied twice changes nothing the second time.
if not redis.call('SET', seen_key, '1', 'NX', 'PX', ARGV[5]) then return {'duplicate'} end

local candidates = {}
local i = 6
while i <= #ARGV do
  local spec, count = ARGV[i], tonumber(ARGV[i + 1])
  local list = {}
  for j = 1, count do list[j] = ARGV[i + 1 + j] end
  candidates[spec] = list
  i = i + 2 + count
end

local results = {}
local considered = {}
for k = 4, #KEYS do
  local ch = load(KEYS[k])
  if ch and ch.status == 'pending' and redis.call('SISMEMBER', pending_key, ch.id) == 1 then
    if tonumber(ch.expires_at) < accepted_at then
      -- Sent too late for this challenge: it is expired, whatever the text says.
      local id = transition(KEYS[k], pending_key, events_key, ch, 'expired', 'challenge.expired')
      table.insert(results, {ch.id, 'expired', ch.attempts, id})
    else
      ch.key = KEYS[k]
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
  local id = ''
  if verified then
    id = transition(ch.key, pending_key, events_key, ch, 'verified', 'challenge.verified')
  elseif ch.attempts >= ch.max_attempts then
    id = transition(ch.key, pending_key, events_key, ch, 'failed', 'challenge.failed')
  elseif ch.attempts > before then
    id = transition(ch.key, pending_key, events_key, ch, 'pending', 'challenge.attempt_failed')
  end
  table.insert(results, {ch.id, ch.status, ch.attempts, id})
end

local flat = {'applied'}
for _, r in ipairs(results) do
  for _, v in ipairs(r) do table.insert(flat, tostring(v)) end
end
return flat
