--[[
  Unlists a forgotten session, unless it was registered again after the delete (a seq above the delete's mark), so
  a late or repeated unregister never hides a newer life of the session. Tenant slot. Defined with 2 keys and with 3.

  Input:
    KEYS[1] the tenant's sessions zset
    KEYS[2] the tenant's gens (session -> highest seq registered)
    KEYS[3] optional: the user's sessions zset
    ARGV[1] session
    ARGV[2] the delete's mark (the highest seq the session accepted)

  Output: none.
]]
if tonumber(redis.call('HGET', KEYS[2], ARGV[1]) or '-1') <= tonumber(ARGV[2]) then
  redis.call('HDEL', KEYS[2], ARGV[1])
  redis.call('ZREM', KEYS[1], ARGV[1])
  if KEYS[3] then redis.call('ZREM', KEYS[3], ARGV[1]) end
end
