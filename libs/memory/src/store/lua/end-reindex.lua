--[[
  Ends a re-index. 'abort' while building drops the target; 'abort' after the switch makes the previous generation
  active again and drops the new one; 'finish' after the switch (the grace period over) drops the previous one. The
  dropped generation is kept under 'drop' until its vectors are deleted (see the driver). Global (one key).

  Input:
    KEYS[1] the generation record
    ARGV[1] 'abort' or 'finish'
    ARGV[2] now (epoch ms)

  Output: the dropped generation (JSON), or false when there was nothing to end.
]]
local state = redis.call('HGET', KEYS[1], 'state')
local dropped
if ARGV[1] == 'abort' and state == 'building' then
  dropped = redis.call('HGET', KEYS[1], 'target')
elseif ARGV[1] == 'abort' and state == 'switched' then
  dropped = redis.call('HGET', KEYS[1], 'active')
  redis.call('HSET', KEYS[1], 'active', redis.call('HGET', KEYS[1], 'previous'))
elseif ARGV[1] == 'finish' and state == 'switched' then
  dropped = redis.call('HGET', KEYS[1], 'previous')
else
  return false
end
-- The counts and times stay: the status shows the last re-index until another begins.
redis.call('HDEL', KEYS[1], 'state', 'target', 'previous', 'cursor', 'pass', 'passStarted', 'missing')
redis.call('HSET', KEYS[1], 'drop', dropped, 'dropSince', ARGV[2])
return dropped
