--[[
  Stores a new version of a session's rolling summary and moves its summary watermark, only if the watermark is still
  the one the summariser read and every turn it summarised is still stored (a turn forgotten meanwhile, or a session
  deleted and started again, changes the count): a replayed or taken-over job summarises nothing twice, and a summary
  never covers a forgotten turn. Keeps at most ARGV[6] versions. Session slot.

  Input:
    KEYS[1] the session's summary watermark
    KEYS[2] the session's summary versions (LIST, newest first)
    KEYS[3] the session's history zset
    ARGV[1] the watermark the summariser read
    ARGV[2] the first seq of the turns summarised
    ARGV[3] the last seq (the new watermark)
    ARGV[4] how many turns were summarised
    ARGV[5] the version (JSON)
    ARGV[6] how many versions are kept

  Output: 1 written, -1 the watermark moved, -2 a summarised turn is gone.
]]
if tonumber(redis.call('GET', KEYS[1]) or '0') ~= tonumber(ARGV[1]) then return -1 end
if redis.call('ZCOUNT', KEYS[3], ARGV[2], ARGV[3]) ~= tonumber(ARGV[4]) then return -2 end
redis.call('LPUSH', KEYS[2], ARGV[5])
redis.call('LTRIM', KEYS[2], 0, tonumber(ARGV[6]) - 1)
redis.call('SET', KEYS[1], ARGV[3])
return 1
