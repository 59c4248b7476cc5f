--[[
  Forgets a scope's memories derived from one session (ARGV[5] '1': every memory of the scope), live and retired,
  with their histories, and sets the session's watermark to ARGV[2] (its last seq) for ARGV[6] seconds, as long as
  its seq counter lives: an extraction of the forgotten turns still running finds the watermark moved and writes
  nothing, and a session of the same name started after the counter expired starts from 0 again. Memory and history
  keys are built from the scope's prefixes: they carry the scope's hash tag, so the script stays in its slot, and
  the declared keys stay a fixed four (ioredis routes an auto-pipelined cluster script by its first argument).

  Input:
    KEYS[1] the session's extraction watermark
    KEYS[2] the scope's memories zset
    KEYS[3] the scope's retired ids
    KEYS[4] the session's unlogged change-log entries (dropped)
    ARGV[1] session
    ARGV[2] the session's last seq
    ARGV[3] the scope's memory-key prefix
    ARGV[4] the scope's history-key prefix
    ARGV[5] '1' to forget every memory of the scope, '0' only those with a source in the session
    ARGV[6] how long the watermark is kept (seconds)

  Output: the keys of the live memories deleted.
]]
local needle = '"session":' .. cjson.encode(ARGV[1])
local gone = {}
for _, id in ipairs(redis.call('ZRANGE', KEYS[2], 0, -1)) do
  local key = ARGV[3] .. id
  local sources = redis.call('HGET', key, 'sources') or ''
  if ARGV[5] == '1' or string.find(sources, needle, 1, true) then
    redis.call('DEL', key, ARGV[4] .. id .. ':history')
    redis.call('ZREM', KEYS[2], id)
    gone[#gone + 1] = key
  end
end
for _, id in ipairs(redis.call('SMEMBERS', KEYS[3])) do
  local history = ARGV[4] .. id .. ':history'
  if ARGV[5] == '1' or string.find(redis.call('LINDEX', history, 0) or '', needle, 1, true) then
    redis.call('DEL', history)
    redis.call('SREM', KEYS[3], id)
  end
end
redis.call('SET', KEYS[1], ARGV[2], 'EX', ARGV[6])
redis.call('DEL', KEYS[4])
return gone
