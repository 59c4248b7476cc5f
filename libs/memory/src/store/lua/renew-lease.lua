--[[
  Extends a lease its holder still holds: another holder's lease (this one's expired meanwhile) is left alone.

  Input:
    KEYS[1] the lease
    ARGV[1] the holder's token
    ARGV[2] the new time to live, ms

  Output: 1 when renewed, 0 when the lease is not the holder's.
]]
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
return redis.call('PEXPIRE', KEYS[1], ARGV[2])
