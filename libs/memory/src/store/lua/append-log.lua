--[[
  Appends entries of one tenant to a change-log partition (trimmed to about ARGV[1]) and records the newest as the
  tenant's position there, which read-your-writes waits for. Partition slot.

  Input:
    KEYS[1] the partition's stream
    KEYS[2] the partition's tenants (tenant -> newest entry id)
    ARGV[1] MAXLEN (approximate)
    ARGV[2] tenant
    ARGV[3] op: 'add', 'rm' (one entry per key) or 'del' (one entry for a session)
    ARGV[4..] the keys; for 'del', the session

  Output: the id of the last entry added.
]]
local id
if ARGV[3] == 'del' then
  id = redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[1], '*', 'op', 'del', 'tenant', ARGV[2], 'session', ARGV[4])
else
  for i = 4, #ARGV do id = redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[1], '*', 'op', ARGV[3], 'key', ARGV[i]) end
end
redis.call('HSET', KEYS[2], ARGV[2], id)
return id
