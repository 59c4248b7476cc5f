--[[
  Moves one layout-1 session to layout 2, atomically and idempotently (every rename checks its source): turn hashes,
  history, id map and seq counter get hash-tagged names, the session gets its meta (first and last activity from its
  turns) and is listed in its tenant. A forgotten session (a counter, no turns) keeps only its counter, expiring.
  Single Redis only (the keys span slots).

  Input:
    KEYS[1..4] layout 1: the session's seq counter, forget mark, history, id map
    KEYS[5..7] layout 2: the session's seq counter, history, stored ids
    KEYS[8] layout 2: the session's meta
    KEYS[9] layout 2: the tenant's sessions zset
    KEYS[10] layout 2: the tenant's gens
    ARGV[1] layout 1's turn-key prefix (the seq is appended)
    ARGV[2] layout 2's turn-key prefix
    ARGV[3] session
    ARGV[4] how long a forgotten session's counter is kept (seconds)
    ARGV[5] now (epoch ms), the created time of a session with no timestamped turn

  Output: the number of turns moved.
]]
local seqs = redis.call('ZRANGE', KEYS[3], 0, -1)
local first, last
for _, s in ipairs(seqs) do
  local old = ARGV[1] .. s
  if redis.call('EXISTS', old) == 1 then
    local ts = tonumber(redis.call('HGET', old, 'timestamp'))
    if ts and (not first or ts < first) then first = ts end
    if ts and (not last or ts > last) then last = ts end
    redis.call('RENAME', old, ARGV[2] .. s)
  end
end
if redis.call('EXISTS', KEYS[3]) == 1 then redis.call('RENAME', KEYS[3], KEYS[6]) end
if redis.call('EXISTS', KEYS[4]) == 1 then redis.call('RENAME', KEYS[4], KEYS[7]) end
local counter = redis.call('GET', KEYS[1])
if counter then redis.call('RENAME', KEYS[1], KEYS[5]) end
redis.call('DEL', KEYS[2])
if #seqs > 0 then
  redis.call('HSET', KEYS[8], 'created', first or ARGV[5])
  if first then redis.call('HSET', KEYS[8], 'first', first, 'last', last) end
  redis.call('ZADD', KEYS[9], 0, ARGV[3])
  redis.call('HSET', KEYS[10], ARGV[3], counter or '0')
elseif counter then
  redis.call('EXPIRE', KEYS[5], ARGV[4])
end
return #seqs
