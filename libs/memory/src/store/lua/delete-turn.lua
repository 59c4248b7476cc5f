--[[
  Forgets one turn by its id: a stored turn's hash, id and history entry go; a pending turn loses its entry and its
  resent count (its job will be dropped). A stored turn's summaries go with it: every summary version that covers it (a version folds in the
  ones before it, so each one up to the newest), and the summary watermark goes back to the newest version left (none:
  0), so the turns after it are summarised again without it. Session slot.

  Input:
    KEYS[1] the session's stored ids
    KEYS[2] the session's pending ids
    KEYS[3] the session's history zset
    KEYS[4] the session's summary watermark
    KEYS[5] the session's summary versions (newest first)
    KEYS[6] the session's resent counts
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
  if tonumber(seq) <= tonumber(redis.call('GET', KEYS[4]) or '0') then
    local head = redis.call('LINDEX', KEYS[5], 0)
    while head and cjson.decode(head).toSeq >= tonumber(seq) do
      redis.call('LPOP', KEYS[5])
      head = redis.call('LINDEX', KEYS[5], 0)
    end
    if head then redis.call('SET', KEYS[4], cjson.decode(head).toSeq) else redis.call('DEL', KEYS[4]) end
  end
  return {1, seq}
end
seq = redis.call('HGET', KEYS[2], ARGV[1])
if seq then
  redis.call('HDEL', KEYS[2], ARGV[1])
  redis.call('HDEL', KEYS[6], ARGV[1])
  return {2, seq}
end
return {0}
