--[[
  Stores a turn if its accept is still pending (a forgotten session or turn has no entry: its job is dropped), and
  answers a replay of an already stored turn with its seq, writing nothing. Moves the id from pending to stored (its
  resent count goes), adds the history entry and updates first/last activity. Session slot.

  Input:
    KEYS[1] the turn's hash
    KEYS[2] the session's stored ids (turn id -> seq)
    KEYS[3] the session's pending ids (turn id -> seq)
    KEYS[4] the session's history zset
    KEYS[5] the session's meta
    KEYS[6] the session's resent counts (turn id -> n)
    ARGV[1] turn id
    ARGV[2] seq
    ARGV[3] the turn's timestamp (epoch ms)
    ARGV[4..] the turn hash's field, value pairs

  Output:
    {1, seq} stored, {0, seq} already stored, {-1, seq} dropped.
]]
local stored = redis.call('HGET', KEYS[2], ARGV[1])
if stored then return {0, stored} end
if redis.call('HGET', KEYS[3], ARGV[1]) ~= ARGV[2] then return {-1, ARGV[2]} end
redis.call('HSET', KEYS[1], unpack(ARGV, 4))
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
redis.call('HDEL', KEYS[3], ARGV[1])
redis.call('HDEL', KEYS[6], ARGV[1])
redis.call('ZADD', KEYS[4], ARGV[2], ARGV[2])
local ts = tonumber(ARGV[3])
if ts < tonumber(redis.call('HGET', KEYS[5], 'first') or ts + 1) then redis.call('HSET', KEYS[5], 'first', ARGV[3]) end
if ts > tonumber(redis.call('HGET', KEYS[5], 'last') or ts - 1) then redis.call('HSET', KEYS[5], 'last', ARGV[3]) end
return {1, ARGV[2]}
