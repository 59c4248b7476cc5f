--[[
  Starts a re-index to a new embedding generation, unless one runs, the store is already on it, or the last dropped
  generation's vectors are still being deleted. Global (one key).

  Input:
    KEYS[1] the generation record
    ARGV[1] the target generation (JSON)
    ARGV[2] its fingerprint
    ARGV[3] now (epoch ms)
    ARGV[4] the number of hashes to re-embed (an estimate, for progress)

  Output: {1} started, {0, state} one runs, {-1} already active, {-2} a drop is pending, {-3} no active generation.
]]
local state = redis.call('HGET', KEYS[1], 'state')
if state then return {0, state} end
local active = redis.call('HGET', KEYS[1], 'active')
if not active then return {-3} end
if cjson.decode(active).fingerprint == ARGV[2] then return {-1} end
if redis.call('HEXISTS', KEYS[1], 'drop') == 1 then return {-2} end
redis.call('HDEL', KEYS[1], 'switched')
redis.call('HSET', KEYS[1], 'state', 'building', 'target', ARGV[1], 'started', ARGV[3], 'cursor', '', 'pass', 1,
  'passStarted', ARGV[3], 'missing', 0, 'done', 0, 'total', ARGV[4])
return {1}
