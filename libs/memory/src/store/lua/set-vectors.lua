--[[
  Stores a re-embedded vector in an existing hash (a turn or memory forgotten meanwhile stays forgotten). One key.

  Input:
    KEYS[1] the hash
    ARGV[1] the generation's field
    ARGV[2] the vector (FLOAT32 bytes)

  Output: 1 stored, 0 the hash is gone.
]]
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
return 1
