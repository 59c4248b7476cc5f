--[[
  Gives a lease up if its holder still holds it (a lease that expired and went to another holder stays theirs).

  Input:
    KEYS[1] the lease
    ARGV[1] the holder's token

  Output: 1 when released, 0 when the lease is not the holder's.
]]
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
return redis.call('DEL', KEYS[1])
