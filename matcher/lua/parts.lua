-- The parts of one long SMS, gathered atomically.
-- KEYS[1] = the assembly hash: p<n> = text (sealed by the caller), m<n> = provider message id,
--           a<n> = accepted_at;
--           template = the message's other fields (JSON); state = done once handed out.
--   add:    ARGV = 'add', number, text, message id, accepted_at, total, ttl_ms, template
--   flush:  ARGV = 'flush'            (hand out what is there, for a timed-out assembly)
--   finish: ARGV = 'finish'           (the handed-out message was judged)
-- add and flush return {'complete'|'waiting', template, then number, text, id, accepted_at per part};
-- flush of an assembly that is gone returns {'gone'}.

local key, op = KEYS[1], ARGV[1]

local function parts()
  local out = {}
  local total = tonumber(redis.call('HGET', key, 'total') or '0')
  for n = 1, total do
    local text = redis.call('HGET', key, 'p' .. n)
    if text then
      table.insert(out, tostring(n))
      table.insert(out, text)
      table.insert(out, redis.call('HGET', key, 'm' .. n))
      table.insert(out, redis.call('HGET', key, 'a' .. n))
    end
  end
  return out
end

local function reply(status)
  local out = {status, redis.call('HGET', key, 'template')}
  for _, v in ipairs(parts()) do table.insert(out, v) end
  return out
end

if op == 'finish' then
  redis.call('HSET', key, 'state', 'done')
  return {'finished'}
end

if op == 'flush' then
  if redis.call('EXISTS', key) == 0 then return {'gone'} end
  return reply('complete')
end

local number, total = ARGV[2], tonumber(ARGV[6])
redis.call('HSETNX', key, 'total', total)
redis.call('HSETNX', key, 'template', ARGV[8])
redis.call('HSETNX', key, 'p' .. number, ARGV[3])
redis.call('HSETNX', key, 'm' .. number, ARGV[4])
redis.call('HSETNX', key, 'a' .. number, ARGV[5])
redis.call('PEXPIRE', key, ARGV[7])
local count = 0
for n = 1, total do
  if redis.call('HEXISTS', key, 'p' .. n) == 1 then count = count + 1 end
end
if count == total or redis.call('HGET', key, 'state') == 'done' then return reply('complete') end
return reply('waiting')
