--[[
  Lists a session in its tenant (and user) index, recording the highest seq registered so an older delete's
  unregister cannot hide it, and counts the new turns as queued for the tenant. Idempotent (ZADD; gens only rises).
  Tenant slot. Defined twice, with 3 keys and with 4 (the user index): a fixed key count per command.

  Input:
    KEYS[1] the tenant's sessions zset
    KEYS[2] the tenant's gens (session -> highest seq registered)
    KEYS[3] the tenant's queued-turn counter
    KEYS[4] optional: the user's sessions zset
    ARGV[1] session
    ARGV[2] the session's seq counter after the accept
    ARGV[3] turns newly accepted (added to the queued count)
    ARGV[4] the queued count's TTL (seconds)

  Output: none.
]]
if tonumber(ARGV[2]) > tonumber(redis.call('HGET', KEYS[2], ARGV[1]) or '-1') then redis.call('HSET', KEYS[2], ARGV[1], ARGV[2]) end
redis.call('ZADD', KEYS[1], 0, ARGV[1])
if KEYS[4] then redis.call('ZADD', KEYS[4], 0, ARGV[1]) end
if tonumber(ARGV[3]) > 0 then
  redis.call('INCRBY', KEYS[3], ARGV[3])
  redis.call('EXPIRE', KEYS[3], ARGV[4])
end
