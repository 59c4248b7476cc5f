--[[
  Reserves room for a request's turns in the tenant's queued count, all or none: the count never passes the bound,
  however many requests (or JSON-RPC messages) arrive at once. register.lua gives back what was not new; release.lua
  counts turns out once processed. Tenant slot.

  Input:
    KEYS[1] the tenant's queued-turn counter
    ARGV[1] the request's turns
    ARGV[2] TENANT_MAX_QUEUED
    ARGV[3] the queued count's TTL (seconds)

  Output:
    {1, count after} when reserved; {0, count} when the turns do not fit (nothing changed).
]]
local queued = tonumber(redis.call('GET', KEYS[1]) or '0')
if queued + tonumber(ARGV[1]) > tonumber(ARGV[2]) then return {0, queued} end
local after = redis.call('INCRBY', KEYS[1], ARGV[1])
redis.call('EXPIRE', KEYS[1], ARGV[3])
return {1, after}
