--[[
  Applies one extraction to a scope, if the session's watermark is still the one the extraction read (else
  nothing is written): adds, updates (the old version is pushed onto the memory's history with the time it stopped
  being true) and deletes (the same, and the id is kept among the retired so forgetting finds its history). The
  change-log entries the in-process indexes need are queued in the same step (an update is a removal and an add: its
  vector changed), so a crash before they are appended cannot lose them (MemoryRepository.flushLog). Memory keys
  are built from the prefixes, which carry the scope's hash tag: the script stays in the scope's slot.

  Input:
    KEYS[1] the session's extraction watermark
    KEYS[2] the scope's memories zset (id -> last change)
    KEYS[3] the scope's retired ids
    KEYS[4] the session's unlogged change-log entries
    ARGV[1] session
    ARGV[2] the watermark the extraction read
    ARGV[3] the new watermark
    ARGV[4] now (epoch ms)
    ARGV[5] the scope's memory-key prefix
    ARGV[6] the scope's history-key prefix
    ARGV[7..] per op: name ('add', 'update', 'delete'), field count n, id, then n hash fields and values

  Output:
    {1, added, updated, deleted}, or {-1} when the watermark moved.
]]
if tonumber(redis.call('GET', KEYS[1]) or '0') ~= tonumber(ARGV[2]) then return {-1} end
local now = ARGV[4]
local out = {1, 0, 0, 0}
local removed, added = {}, {}
local i = 7
while i <= #ARGV do
  local op, n, id = ARGV[i], tonumber(ARGV[i + 1]), ARGV[i + 2]
  local key, history = ARGV[5] .. id, ARGV[6] .. id .. ':history'
  if op ~= 'add' then removed[#removed + 1] = 'rm ' .. key end
  if op ~= 'delete' then added[#added + 1] = 'add ' .. key end
  if op == 'add' then
    redis.call('HSET', key, unpack(ARGV, i + 3, i + 2 + n))
    redis.call('ZADD', KEYS[2], now, id)
    out[2] = out[2] + 1
  else
    local old = redis.call('HMGET', key, 'content', 'memory_type', 'entities', 'sources', 'timestamp')
    if old[1] then
      redis.call('LPUSH', history, '{"content":' .. cjson.encode(old[1]) .. ',"type":' .. cjson.encode(old[2]) ..
        ',"entities":' .. old[3] .. ',"sources":' .. old[4] .. ',"validFrom":' .. old[5] .. ',"validUntil":' .. now ..
        ',"change":"' .. op .. '"}')
      if op == 'update' then
        redis.call('HSET', key, unpack(ARGV, i + 3, i + 2 + n))
        redis.call('ZADD', KEYS[2], now, id)
        out[3] = out[3] + 1
      else
        redis.call('DEL', key)
        redis.call('ZREM', KEYS[2], id)
        redis.call('SADD', KEYS[3], id)
        out[4] = out[4] + 1
      end
    end
  end
  i = i + 3 + n
end
redis.call('SET', KEYS[1], ARGV[3])
if #removed > 0 then redis.call('RPUSH', KEYS[4], unpack(removed)) end
if #added > 0 then redis.call('RPUSH', KEYS[4], unpack(added)) end
return out
