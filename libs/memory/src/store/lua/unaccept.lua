--[[
  Takes back the turns a request accepted (new, or still queued) when their jobs could not be enqueued, so that an
  error means nothing was accepted: a pending entry still holding the seq the request gave goes, unless another
  request found it pending since (a resend, which may have been answered: its job must find the entry), in which
  case one resend is counted off instead. A job of a removed entry that was added after all finds none and is
  dropped. A resend of the same ids is then new again. Session slot.

  Input:
    KEYS[1] the session's pending ids (turn id -> seq)
    KEYS[2] the session's resent counts (turn id -> n)
    ARGV[1..] turn id, seq, turn id, seq, ...

  Output: how many entries were removed.
]]
local removed = 0
for i = 1, #ARGV, 2 do
  if redis.call('HGET', KEYS[1], ARGV[i]) == ARGV[i + 1] then
    if tonumber(redis.call('HGET', KEYS[2], ARGV[i]) or '0') > 0 then
      if redis.call('HINCRBY', KEYS[2], ARGV[i], -1) == 0 then redis.call('HDEL', KEYS[2], ARGV[i]) end
    else
      redis.call('HDEL', KEYS[1], ARGV[i])
      removed = removed + 1
    end
  end
end
return removed
