-- Routes: which challenges wait for an SMS from one sender to one virtual number.
-- A route is the field '<phone>:<number>' of one of the shared bucket hashes (common/names.py),
-- its value the space-separated '<tenant>/<challenge id>' of the challenges opened for it.
-- Each change is one step, so concurrent creates, cancels and sweeps never lose a member.
-- A phone's enrolled devices (common/devices.py) are kept the same way.
--
-- KEYS[1] = the route's bucket, ARGV[1] = operation, ARGV[2] = the route's field
--   join:    ARGV[3] = the member to add (once)
--   leave:   ARGV[3] = the member to remove; the field goes with its last member
--   judge:   KEYS[2] = the SMS's judgement record, ARGV[3] = its TTL (ms)
--            answers the tenants the SMS is judged against, fixed at its first judgement
--            (a redelivery days later meets the same tenants, not those that opened a
--            challenge since), and the route's members as they are now

local bucket, op, field = KEYS[1], ARGV[1], ARGV[2]

local on_route = redis.call('HGET', bucket, field) or ''

local function members()
  local list = {}
  for member in string.gmatch(on_route, '%S+') do table.insert(list, member) end
  return list
end

if op == 'join' or op == 'leave' then
  local kept = {}
  for _, member in ipairs(members()) do
    if member ~= ARGV[3] then table.insert(kept, member) end
  end
  if op == 'join' then table.insert(kept, ARGV[3]) end
  if #kept == 0 then
    redis.call('HDEL', bucket, field)
  else
    redis.call('HSET', bucket, field, table.concat(kept, ' '))
  end
  return #kept
end

if op == 'judge' then
  local fixed = redis.call('GET', KEYS[2])
  if fixed then return {fixed, on_route} end
  local tenants, seen = {}, {}
  for _, member in ipairs(members()) do
    local tenant = string.match(member, '^([^/]+)/')
    if not seen[tenant] then
      seen[tenant] = true
      table.insert(tenants, tenant)
    end
  end
  table.sort(tenants)
  local joined = table.concat(tenants, ',')
  redis.call('SET', KEYS[2], joined, 'PX', ARGV[3])
  return {joined, on_route}
end

return redis.error_reply('unknown operation ' .. tostring(op))
