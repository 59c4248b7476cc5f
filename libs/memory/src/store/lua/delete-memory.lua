--[[
  Forgets one memory and its history, live or retired. Scope slot.

  Input:
    KEYS[1] the memory's hash
    KEYS[2] its history
    KEYS[3] the scope's memories zset
    KEYS[4] the scope's retired ids
    ARGV[1] memory id

  Output: 1 when it existed, else 0.
]]
local live = redis.call('ZREM', KEYS[3], ARGV[1])
local retired = redis.call('SREM', KEYS[4], ARGV[1])
redis.call('DEL', KEYS[1], KEYS[2])
return live + retired
