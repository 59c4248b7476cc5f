--[[
  Takes back the turns a request accepted as new when their jobs could not be enqueued, so that an error means
  nothing was accepted: each pending entry still holding the seq the request gave goes (a job of it that was added
  after all finds none and is dropped). A resend of the same ids is then new again. Session slot.

  Input:
    KEYS[1] the session's pending ids (turn id -> seq)
    ARGV[1..] turn id, seq, turn id, seq, ...

  Output: how many entries were removed.
]]
local removed = 0
for i = 1, #ARGV, 2 do
  if redis.call('HGET', KEYS[1], ARGV[i]) == ARGV[i + 1] then
    redis.call('HDEL', KEYS[1], ARGV[i])
    removed = removed + 1
  end
end
return removed
