--[[
  Forgets one turn by its id: a stored turn's hash, id and history entry go; a pending turn loses its entry and its
  resent count (its job will be dropped). Session slot.

  Input:
    KEYS[1] the session's stored ids
    KEYS[2] the session's pending ids
    KEYS[3] the session's history zset
    KEYS[4] the session's resent counts
    ARGV[1] turn id
    ARGV[2] the session's turn-key prefix (the seq is appended)

  Output:
    {1, seq} stored (now deleted), {2, seq} still queued, {0} unknown.
]]
local seq = redis.call('HGET', KEYS[1], ARGV[1])
if seq then
  redis.call('DEL', ARGV[2] .. seq)
  redis.call('HDEL', KEYS[1], ARGV[1])
  redis.call('ZREM', KEYS[3], seq)
  return {1, seq}
end
seq = redis.call('HGET', KEYS[2], ARGV[1])
if seq then
  redis.call('HDEL', KEYS[2], ARGV[1])
  redis.call('HDEL', KEYS[4], ARGV[1])
  return {2, seq}
end
return {0}
