--[[
  Records a re-index batch: advances the scan cursor from ARGV[2] to ARGV[3] and counts what it re-embedded, only if
  the target and the cursor are still these (a replayed or aborted batch changes nothing). At the end of a pass
  (ARGV[6] = 1), switches the active generation atomically when the pass found nothing to re-embed and began at
  least ARGV[7] ms after the re-index did (every writer was writing both generations by then); else starts another.
  Global (one key).

  Input:
    KEYS[1] the generation record
    ARGV[1] the target's fingerprint
    ARGV[2] the cursor the batch started from
    ARGV[3] the cursor after it
    ARGV[4] hashes re-embedded
    ARGV[5] hashes found without the target's vector (re-embedded or gone meanwhile)
    ARGV[6] 1 when the batch ended a pass
    ARGV[7] settle time (ms)
    ARGV[8] now (epoch ms)

  Output: 0 stale batch, 1 recorded, 2 a new pass began, 3 switched.
]]
if redis.call('HGET', KEYS[1], 'state') ~= 'building' then return 0 end
local target = redis.call('HGET', KEYS[1], 'target')
if cjson.decode(target).fingerprint ~= ARGV[1] or redis.call('HGET', KEYS[1], 'cursor') ~= ARGV[2] then return 0 end
redis.call('HINCRBY', KEYS[1], 'done', ARGV[4])
local missing = redis.call('HINCRBY', KEYS[1], 'missing', ARGV[5])
if ARGV[6] ~= '1' then
  redis.call('HSET', KEYS[1], 'cursor', ARGV[3])
  return 1
end
local began = tonumber(redis.call('HGET', KEYS[1], 'passStarted'))
if missing == 0 and began - tonumber(redis.call('HGET', KEYS[1], 'started')) >= tonumber(ARGV[7]) then
  redis.call('HSET', KEYS[1], 'state', 'switched', 'previous', redis.call('HGET', KEYS[1], 'active'), 'active', target, 'switched', ARGV[8])
  redis.call('HDEL', KEYS[1], 'target', 'cursor', 'pass', 'passStarted', 'missing')
  return 3
end
redis.call('HSET', KEYS[1], 'cursor', '', 'missing', 0, 'passStarted', ARGV[8])
redis.call('HINCRBY', KEYS[1], 'pass', 1)
return 2
