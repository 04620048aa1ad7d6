-- Counts one inbound SMS against its sender's allowance, once, however often it is delivered.
-- KEYS[1] = the SMS's admission marker (provider + sender + provider message id)
-- KEYS[2] = the sender's counter for the current window (same hash tag as the marker)
-- ARGV[1] = marker TTL (ms), ARGV[2] = sender limit, ARGV[3] = counter TTL (ms)
-- Returns 'counted' (new, within the allowance), 'flood' (new, over it: dropped),
-- or the earlier decision ('seen:counted' / 'seen:flood') for a delivery seen before.

local prior = redis.call('GET', KEYS[1])
if prior then return 'seen:' .. prior end
local count = redis.call('INCR', KEYS[2])
if count == 1 then redis.call('PEXPIRE', KEYS[2], ARGV[3]) end
local decision = 'counted'
if count > tonumber(ARGV[2]) then decision = 'flood' end
redis.call('SET', KEYS[1], decision, 'PX', ARGV[1])
return decision
