-- Count admitted calls and failures per time bucket over the window, oldest first.
-- KEYS: 1 admitted calls (zset), 2 failures (zset).
-- ARGV: 1 test clock offset, 2 window, 3 number of buckets (microseconds).
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2]) + tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local buckets = tonumber(ARGV[3])
local width = window / buckets
local reply = {now}
for i = 0, buckets - 1 do
  local low = string.format('(%.0f', now - window + i * width)
  local high = string.format('%.0f', now - window + (i + 1) * width)
  table.insert(reply, redis.call('ZCOUNT', KEYS[1], low, high))
  table.insert(reply, redis.call('ZCOUNT', KEYS[2], low, high))
end
return reply
