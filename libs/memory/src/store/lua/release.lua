--[[
  Counts turns of a tenant as processed: decrements its queued count, never below 0 (its TTL is kept). Tenant slot.

  Input:
    KEYS[1] the tenant's queued-turn counter
    ARGV[1] how many

  Output: none.
]]
if redis.call('DECRBY', KEYS[1], ARGV[1]) < 0 then redis.call('SET', KEYS[1], 0, 'KEEPTTL') end
