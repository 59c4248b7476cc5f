--[[
  Numbers the turn ids of one request in a session: an id already stored or still queued keeps its seq, a new one
  takes the next and a pending entry; a queued one is counted as resent, so that another request's failure does not
  take it back (see unaccept.lua). The first write naming a user makes the session that user's; another user is a
  conflict, and nothing is written. A key bound to that user may only create the session or write to its user's: an
  existing session without a user is refused, atomically with the write (the access check before it may have seen no
  session). A request answering a turn (a chat's reply) is accepted only while that turn is still stored or queued: a
  DELETE of the session (or of the turn) since refuses it, atomically, so a reply cannot bring a forgotten session
  back. The session's counter is made permanent again (a delete left it expiring). Session slot.

  Input:
    KEYS[1] the session's seq counter
    KEYS[2] the session's stored ids (turn id -> seq)
    KEYS[3] the session's pending ids (turn id -> seq)
    KEYS[4] the session's meta (user, created)
    KEYS[5] the session's resent counts (turn id -> n)
    ARGV[1] user ('' for none)
    ARGV[2] now (epoch ms), the session's created time if it is new
    ARGV[3] the turn id the request answers ('' for none)
    ARGV[4] '1' when the request's key is bound to the user, else ''
    ARGV[5..] the request's turn ids

  Output:
    {1, owner or '', counter, seq1, state1, ...}, state 0 new, 1 pending, 2 stored; {-1, owner} on a conflict; {-2}
    when the turn answered is gone; {-3} when a user key's session exists and is not its user's.
]]
if ARGV[3] ~= '' and not redis.call('HGET', KEYS[2], ARGV[3]) and not redis.call('HGET', KEYS[3], ARGV[3]) then return {-2} end
local owner = redis.call('HGET', KEYS[4], 'user')
if ARGV[1] ~= '' then
  if ARGV[4] ~= '' and owner ~= ARGV[1] and redis.call('HEXISTS', KEYS[4], 'created') == 1 then return {-3} end
  if owner and owner ~= ARGV[1] then return {-1, owner} end
  if not owner then redis.call('HSET', KEYS[4], 'user', ARGV[1]); owner = ARGV[1] end
end
redis.call('HSETNX', KEYS[4], 'created', ARGV[2])
redis.call('PERSIST', KEYS[1])
local out = {1, owner or '', 0}
for i = 5, #ARGV do
  local seq, state = redis.call('HGET', KEYS[2], ARGV[i]), 2
  if not seq then
    seq, state = redis.call('HGET', KEYS[3], ARGV[i]), 1
    if seq then
      redis.call('HINCRBY', KEYS[5], ARGV[i], 1)
    else
      seq, state = redis.call('INCR', KEYS[1]), 0
      redis.call('HSET', KEYS[3], ARGV[i], seq)
    end
  end
  out[#out + 1] = tonumber(seq)
  out[#out + 1] = state
end
out[3] = tonumber(redis.call('GET', KEYS[1]) or '0')
return out
