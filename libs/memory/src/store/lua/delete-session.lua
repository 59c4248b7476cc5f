--[[
  Deletes every turn hash of a session and its bookkeeping (history, both id maps, resent counts, meta, its summaries). The seq counter stays for
  ARGV[2] seconds, raised past every stored seq, so numbers, and the job ids made from them, are not reused while
  the session's jobs may still run. Session slot.

  Input:
    KEYS[1] the session's seq counter
    KEYS[2] the session's history zset
    KEYS[3] the session's stored ids
    KEYS[4] the session's pending ids
    KEYS[5] the session's meta
    KEYS[6] the session's summary versions
    KEYS[7] the session's summary watermark
    KEYS[8] the session's resent counts
    ARGV[1] the session's turn-key prefix (the seq is appended)
    ARGV[2] how long the counter is kept (seconds)

  Output:
    {-1} for a session with neither a counter nor a stored turn, else {deleted, mark, user or '', id, seq, ...}
    with the turns still pending.
]]
local seqs = redis.call('ZRANGE', KEYS[2], 0, -1)
local accepted = redis.call('GET', KEYS[1])
if not accepted and #seqs == 0 then return {-1} end
local mark = tonumber(accepted or '0')
for _, s in ipairs(seqs) do
  redis.call('DEL', ARGV[1] .. s)
  if tonumber(s) > mark then mark = tonumber(s) end
end
local pending = redis.call('HGETALL', KEYS[4])
local user = redis.call('HGET', KEYS[5], 'user') or ''
redis.call('DEL', KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6], KEYS[7], KEYS[8])
redis.call('SET', KEYS[1], mark, 'EX', ARGV[2])
local out = {#seqs, mark, user}
for _, s in ipairs(pending) do out[#out + 1] = s end
return out
