-- Every state change of a challenge, atomically with the event that announces it.
-- The tenant's event stream is the outbox: a change and its event are one step or neither.
-- Attempts, expiry and terminal states are enforced here, never before the call.
-- A challenge is a MessagePack array under its id in the hash of its tenant's expiry slot;
-- RECORD_FIELDS names the positions, in the order of StoredRecord in common/challenges.py.
-- (Routes, in another cluster slot, have their own script: routes.lua.)
--
-- ARGV[1] = operation, ARGV[2] = now (ms), ARGV[3] = oldest event id to keep (stream MINID)
--   cancel:  KEYS = the challenge's slot hash, events;  ARGV[4] = challenge id
--            a challenge canceled already answers 'canceled' again (a retried cancel)
--   expire:  KEYS = the challenge's slot hash, events;  ARGV[4] = challenge id,
--            ARGV[5] = cutoff: expire if expires_at <= cutoff
--   mismatch: KEYS = the challenge's slot hash, events, marker; ARGV[4] = challenge id,
--            ARGV[5] = the code's candidate hash, ARGV[6] = the sender (E.164), ARGV[7] = it
--            masked, ARGV[8] = its country, ARGV[9] = marker TTL (ms), ARGV[10] = the number
--   match:   KEYS = events, seen marker, the tenant's funnel counts of the day (common/funnel.py),
--            then the slot hash of each challenge on the route
--            ARGV[4] = accepted_at (ms), ARGV[5] = seen marker TTL (ms),
--            ARGV[6] = mode: 'all' commits whatever the SMS does; 'verifying' commits only
--                      when it verifies a challenge, else writes nothing and answers 'held'
--            ARGV[7], ARGV[8] = the SMS's sender and virtual number,
--            ARGV[9] = 'test' for a simulated SMS (it reaches test challenges only), else 'real'
--            (it never reaches them), ARGV[10] = when the provider received the SMS (ms) or ''
--            when it did not say: a challenge created more than STALE_TOLERANCE_MS after that
--            cannot be answered by it (it costs nothing there),
--            ARGV[11] = n, then n challenge ids (the k-th lives in KEYS[3 + k]),
--            then m, then m candidates that are a device's TOTP (the j-th's time-step marker
--            is KEYS[3 + n + j]),
--            then groups: spec, count, candidate hash × count  (candidates in text order)
--            answers 'duplicate' + what the first application did ('verified' or 'applied')
--            for a provider message applied before, else 'applied', how many challenges it
--            could not answer (stale), then per challenge (id, status, attempts, event id or '')

local op, now, min_id = ARGV[1], ARGV[2], ARGV[3]

local RECORD_FIELDS = {'status', 'attempts', 'max_attempts', 'code_length', 'alphabet', 'created_at',
  'expires_at', 'phone', 'virtual_number', 'code_hash', 'external_id', 'context', 'verified_at',
  'last_event_id', 'test', 'callback_url', 'device_id'}
-- A record is written (StoredRecord) with its status and alphabet as codes (STATUS_CODES and
-- ALPHABET_CODES in Python) and its expiry as the TTL after its creation, at these positions
-- of RECORD_FIELDS. One written before that layout (EarlierRecord) holds names and the instant.
-- Literal tables, not loops: this top level runs at every call (a loop over the fields cost
-- each call 8 µs of Redis' time).
local STATUS_AT, ALPHABET_AT, EXPIRY_AT = 1, 5, 7
local STATUSES = {'pending', 'verified', 'failed', 'expired', 'canceled'}
local STATUS_CODE = {pending = 0, verified = 1, failed = 2, expired = 3, canceled = 4}
local ALPHABETS = {'numeric', 'alphanumeric'}
local ALPHABET_CODE = {numeric = 0, alphanumeric = 1}

-- The challenge filed under an id in a slot hash, its fields by name, whichever its layout.
local function load(key, id)
  local packed = redis.call('HGET', key, id)
  if not packed then return nil end
  local values = cmsgpack.unpack(packed)
  local record = {key = key, id = id, coded = type(values[STATUS_AT]) == 'number'}
  for i, name in ipairs(RECORD_FIELDS) do record[name] = values[i] end
  if record.coded then
    record.status = STATUSES[record.status + 1]
    record.alphabet = ALPHABETS[record.alphabet + 1]
    record.expires_at = record.created_at + record.expires_at
  end
  return record
end

-- Saved in the layout it was read in, so that a process of either version can still read it.
local function save(record)
  local values = {}
  for i, name in ipairs(RECORD_FIELDS) do values[i] = record[name] end
  if record.coded then
    values[STATUS_AT] = STATUS_CODE[record.status]
    values[ALPHABET_AT] = ALPHABET_CODE[record.alphabet]
    values[EXPIRY_AT] = record.expires_at - record.created_at
  end
  redis.call('HSET', record.key, record.id, cmsgpack.pack(values))
end

-- ``candidate`` is a code's hash under the current server secret, followed by its hash under
-- each previous one still accepted (a rotation's grace period): it matches when any of them
-- equals ``stored``. Every byte is compared whatever the outcome: the time says nothing.
local function same_hash(candidate, stored)
  local n = #stored
  if n == 0 or #candidate == 0 or #candidate % n ~= 0 then return false end
  local matched = false
  for offset = 0, #candidate - n, n do
    local diff = 0
    for i = 1, n do diff = bit.bor(diff, bit.bxor(string.byte(candidate, offset + i), string.byte(stored, i))) end
    matched = matched or diff == 0
  end
  return matched
end

-- Writes the challenge's new status and attempts and appends the event; returns the event's
-- stream id (the tenant's cursor).
local function transition(events_key, ch, status, event_type, extra)
  ch.status = status
  if status == 'verified' then ch.verified_at = tonumber(now) end
  local verified_at = ''
  if ch.verified_at ~= 0 then verified_at = ch.verified_at end
  local fields = {'type', event_type, 'challenge_id', ch.id, 'external_id', ch.external_id,
    'status', status, 'attempts', ch.attempts, 'max_attempts', ch.max_attempts,
    'phone', ch.phone, 'virtual_number', ch.virtual_number, 'occurred_at', now,
    'verified_at', verified_at, 'test', ch.test and '1' or '', 'callback_url', ch.callback_url or '',
    'method', (ch.device_id or '') ~= '' and 'device_totp' or 'code'}
  -- The transaction the user approved, which the verification's signed receipt is bound to.
  if status == 'verified' then
    table.insert(fields, 'context')
    table.insert(fields, ch.context or '')
  end
  for _, value in ipairs(extra or {}) do table.insert(fields, value) end
  local id = redis.call('XADD', events_key, 'MINID', '~', min_id, '*', unpack(fields))
  ch.last_event_id = id
  save(ch)
  return id
end

if op == 'mismatch' then
  -- KEYS = the challenge's slot hash, events, the SMS's mismatch marker at this tenant.
  -- A pending, real challenge whose code came from another phone to its number: the platform
  -- hears of it once per provider message; nothing about the challenge changes.
  local ch = load(KEYS[1], ARGV[4])
  if not ch or ch.status ~= 'pending' or ch.test == true or ch.phone == ARGV[6]
      or ch.virtual_number ~= ARGV[10] or not same_hash(ARGV[5], ch.code_hash) then
    return {'none'}
  end
  if not redis.call('SET', KEYS[3], '1', 'NX', 'PX', ARGV[9]) then return {'duplicate'} end
  local extra = {'sender', ARGV[7], 'from_country', ARGV[8]}
  return {'signaled', transition(KEYS[2], ch, 'pending', 'challenge.sender_mismatch', extra)}
end

if op == 'cancel' then
  local ch = load(KEYS[1], ARGV[4])
  if not ch then return {'missing'} end
  if ch.status == 'canceled' then return {'canceled', ch.last_event_id} end
  if ch.status ~= 'pending' then return {'conflict', ch.status} end
  return {'canceled', transition(KEYS[2], ch, 'canceled', 'challenge.canceled')}
end

if op == 'expire' then
  local ch = load(KEYS[1], ARGV[4])
  if not ch then return {'missing'} end
  if ch.status ~= 'pending' or ch.expires_at > tonumber(ARGV[5]) then
    return {'unchanged', ch.status}
  end
  return {'expired', transition(KEYS[2], ch, 'expired', 'challenge.expired')}
end

if op ~= 'match' then return redis.error_reply('unknown operation ' .. tostring(op)) end

local events_key, seen_key, funnel_key = KEYS[1], KEYS[2], KEYS[3]
local FUNNEL_TTL_MS = 35 * 24 * 3600 * 1000
-- Provider clocks and ours disagree a little: a reception this close before creation still counts.
local STALE_TOLERANCE_MS = 2000
local accepted_at, mode, sender, number = tonumber(ARGV[4]), ARGV[6], ARGV[7], ARGV[8]
local simulated = ARGV[9] == 'test'
-- The same provider message applied twice changes nothing the second time.
local first = redis.call('GET', seen_key)
if first then return {'duplicate', first} end

local received_at = tonumber(ARGV[10])  -- nil when the provider gave no reception time
local challenge_ids = {}
local n_challenges = tonumber(ARGV[11])
for k = 1, n_challenges do challenge_ids[k] = ARGV[11 + k] end

-- Device-bound challenges: a candidate the matcher found to be the device's TOTP carries, after
-- its code hashes, the device's token, and names the marker of its time step (KEYS after the
-- challenges'): a step that verified once makes the same code a wrong guess.
local step_marker = {}
local n_markers = tonumber(ARGV[12 + n_challenges])
for j = 1, n_markers do step_marker[ARGV[12 + n_challenges + j]] = KEYS[3 + n_challenges + j] end
local DEVICE_STEP_TTL_MS = 120000  -- longer than a code's validity: three 30 s steps

local candidates = {}
local i = 13 + n_challenges + n_markers
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
local stale = 0
for k = 1, n_challenges do
  local ch = load(KEYS[3 + k], challenge_ids[k])
  if ch and ch.status == 'pending' and ch.phone == sender and ch.virtual_number == number
      and (ch.test == true) == simulated then
    if received_at and received_at < ch.created_at - STALE_TOLERANCE_MS then
      stale = stale + 1  -- received before the challenge existed: it cannot answer it
    elseif ch.expires_at < accepted_at then
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

-- Whether a device challenge's matching candidate is a code of a time step not yet spent.
local spent = {}
local function fresh_step(ch, hash)
  if (ch.device_id or '') == '' then return true end
  local marker = step_marker[hash]
  return marker ~= nil and not spent[marker] and redis.call('EXISTS', marker) == 0
end

local any_verified = false
for _, ch in ipairs(considered) do
  local list = candidates[ch.alphabet .. ':' .. ch.code_length] or {}
  local before, verified = ch.attempts, false
  if #list == 0 then
    ch.attempts = ch.attempts + 1  -- a text with no candidate still costs an attempt
  else
    for _, hash in ipairs(list) do
      local its_code = same_hash(hash, ch.code_hash)
      if its_code and fresh_step(ch, hash) then
        ch.attempts = ch.attempts + 1
        verified = true
        if step_marker[hash] then spent[step_marker[hash]] = true end
        break
      elseif its_code or not is_some_code(hash) then  -- its code again: a spent time step
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
for marker in pairs(spent) do redis.call('SET', marker, '1', 'PX', DEVICE_STEP_TTL_MS) end
-- Counted with the change itself: a duplicate or a held SMS counts nothing, a redelivery once.
if redis.call('HINCRBY', funnel_key, 'sms_received', 1) == 1 then
  redis.call('PEXPIRE', funnel_key, FUNNEL_TTL_MS)  -- the day's first: the key may be new
end

local flat = {'applied', tostring(stale)}
for _, step in ipairs(plan) do
  local ch, status, event_type = step[1], step[2], step[3]
  local id = ''
  if event_type then id = transition(events_key, ch, status, event_type) end
  if status == 'verified' then redis.call('HINCRBY', funnel_key, 'verified', 1) end
  for _, v in ipairs({ch.id, ch.status, ch.attempts, id}) do table.insert(flat, tostring(v)) end
end
return flat
