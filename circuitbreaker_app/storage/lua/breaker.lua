-- One atomic step of a breaker's state machine, run inside Redis.
--
-- Every read-modify-write of a breaker goes through this script, so no two
-- processes can interleave between reading the state and writing it. Time
-- comes from the Redis server (TIME), never from the web host, so hosts with
-- skewed clocks agree. All times and durations are integer microseconds.
--
-- KEYS: 1 state hash, 2 admitted calls (zset), 3 failures (zset),
--       4 successes (zset, rate policy only), 5 trial permits (zset, score =
--       lease expiry). All five share the breaker's hash tag.
-- ARGV: 1 op, 2 test clock offset, 3 policy, 4 failure threshold, 5 window,
--       6 failure rate threshold (percent), 7 minimum calls, 8 retry duration,
--       9 max retry duration, 10 retry backoff, 11 half-open max calls,
--       12 success threshold, 13 trial lease, 14 key TTL (ms), 15 hold stored
--       on the model, then per op: 16 generation, 17 trial permit, 18 detail
--       or target state, 19 hold, 20 reason.

local op = ARGV[1]
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2]) + tonumber(ARGV[2])

local policy = ARGV[3]
local threshold = tonumber(ARGV[4])
local window = tonumber(ARGV[5])
local rate_threshold = tonumber(ARGV[6])
local min_calls = tonumber(ARGV[7])
local retry = tonumber(ARGV[8])
local max_retry = tonumber(ARGV[9])
local backoff = tonumber(ARGV[10])
local half_max = tonumber(ARGV[11])
local success_threshold = tonumber(ARGV[12])
local lease = tonumber(ARGV[13])
local ttl_ms = tonumber(ARGV[14])
local seed_hold = ARGV[15]

local S, CALLS, FAILS, OKS, TRIALS = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]

-- Lua's tostring keeps only 14 significant digits; microsecond times need 16.
local function fmt(x)
  if type(x) == 'number' then return string.format('%.0f', x) end
  return x
end
local transitions = {}
local dirty = false

local function load()
  local raw = redis.call('HGETALL', S)
  local st = {}
  for i = 1, #raw, 2 do st[raw[i]] = raw[i + 1] end
  if st.state == nil then
    -- The cached state was lost (flush, eviction, first use): start closed
    -- unless the model holds the breaker. The generation starts at the
    -- current time, so calls admitted before a flush stay stale after it.
    st = {state = 'closed', held = seed_hold, gen = fmt(now), failures = '0', seq = '0',
          opened_at = '-1', retry_at = '-1', retry_us = fmt(retry),
          trial_ok = '0', changed_at = fmt(now), reason = '', last_error = ''}
    if seed_hold == 'open' then
      st.state = 'open'
      st.opened_at = fmt(now)
    end
    dirty = true
  end
  return st
end

local st = load()

local function set(field, value)
  st[field] = fmt(value)
  dirty = true
end

local function num(field) return tonumber(st[field]) end

local function next_seq()
  set('seq', num('seq') + 1)
  return st.seq
end

local function reset_counters()
  set('failures', 0)
  redis.call('DEL', FAILS, OKS)
end

local function transition(new_state, reason)
  table.insert(transitions, {st.state, new_state, reason})
  set('state', new_state)
  set('gen', num('gen') + 1)
  set('changed_at', now)
  set('reason', reason)
  set('trial_ok', 0)
  redis.call('DEL', TRIALS)
end

local function open(reason, retry_us)
  transition('open', reason)
  set('opened_at', now)
  set('retry_us', retry_us)
  if st.held == 'open' then set('retry_at', -1) else set('retry_at', now + retry_us) end
end

local function close(reason)
  transition('closed', reason)
  set('retry_us', retry)
  set('retry_at', -1)
  reset_counters()
end

-- Open turns half-open lazily, when anyone looks: no timers anywhere.
local function resolve()
  if st.state == 'open' and st.held ~= 'open' and num('retry_at') >= 0 and now >= num('retry_at') then
    transition('half_open', 'retry_elapsed')
  end
end

local function window_count(key)
  return redis.call('ZCOUNT', key, '(' .. fmt(now - window), '+inf')
end

local function failure_count()
  if policy == 'consecutive' then return num('failures') end
  return window_count(FAILS)
end

local function trim(key)
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window)
end

local function policy_trips()
  if policy == 'consecutive' then
    set('failures', num('failures') + 1)
    return num('failures') >= threshold, 'failure_threshold'
  end
  trim(FAILS)
  local failures = redis.call('ZCARD', FAILS)
  if policy == 'count' then return failures >= threshold, 'failure_threshold' end
  trim(OKS)
  local total = failures + redis.call('ZCARD', OKS)
  return total >= min_calls and failures * 100 >= rate_threshold * total, 'failure_rate'
end

local allowed, trial = -1, -1

local function admit()
  if st.state == 'closed' then
    allowed = 1
    redis.call('ZADD', CALLS, now, next_seq())
    trim(CALLS)
  elseif st.state == 'half_open' then
    redis.call('ZREMRANGEBYSCORE', TRIALS, '-inf', now)
    if redis.call('ZCARD', TRIALS) < half_max then
      allowed = 1
      trial = next_seq()
      redis.call('ZADD', TRIALS, now + lease, trial)
      redis.call('ZADD', CALLS, now, trial)
      trim(CALLS)
    else
      allowed = 0
    end
  else
    allowed = 0
  end
end

local function failure()
  local gen, detail = ARGV[16], ARGV[18]
  if gen ~= st.gen then return end
  redis.call('ZADD', FAILS, now, next_seq())
  set('last_error', detail)
  if st.state == 'half_open' then
    redis.call('ZREM', TRIALS, ARGV[17])
    open('trial_failed', math.min(math.floor(num('retry_us') * backoff), max_retry))
  elseif st.state == 'closed' then
    local trips, reason = policy_trips()
    if trips and st.held ~= 'closed' then open(reason, retry) end
  end
end

local function success()
  if ARGV[16] ~= st.gen then return end
  if st.state == 'half_open' then
    redis.call('ZREM', TRIALS, ARGV[17])
    set('trial_ok', num('trial_ok') + 1)
    if num('trial_ok') >= success_threshold then close('trial_succeeded') end
  elseif st.state == 'closed' then
    if policy == 'consecutive' and num('failures') > 0 then set('failures', 0) end
    if policy == 'rate' then
      redis.call('ZADD', OKS, now, next_seq())
      trim(OKS)
    end
  end
end

local function force()
  local target, hold, reason = ARGV[18], ARGV[19], ARGV[20]
  set('held', hold)
  if target == 'closed' then
    close(reason)
  elseif target == 'open' then
    open(reason, retry)
  else
    transition('half_open', reason)
  end
end

local function release_hold()
  if st.held == '' then return end
  local state = st.state
  set('held', '')
  transition(state, 'hold_released')
  if state == 'open' and num('retry_at') < 0 then set('retry_at', now + num('retry_us')) end
end

resolve()
if op == 'admit' then admit()
elseif op == 'failure' then failure()
elseif op == 'success' then success()
elseif op == 'release' then
  if redis.call('ZREM', TRIALS, ARGV[17]) == 1 then dirty = true end
elseif op == 'force' then force()
elseif op == 'release_hold' then release_hold()
end

if dirty then
  local fields = {}
  for k, v in pairs(st) do
    table.insert(fields, k)
    table.insert(fields, v)
  end
  redis.call('HSET', S, unpack(fields))
  for i = 1, 5 do redis.call('PEXPIRE', KEYS[i], ttl_ms) end
end

local function next_trial_at()
  local first = redis.call('ZRANGEBYSCORE', TRIALS, '(' .. fmt(now), '+inf', 'WITHSCORES', 'LIMIT', 0, 1)
  if #first == 0 then return -1 end
  return tonumber(first[2])
end

local reply = {
  st.state, st.held, num('gen'), failure_count(), window_count(CALLS),
  num('retry_at'), num('opened_at'), now, tonumber(trial), allowed,
  num('changed_at'), st.reason, st.last_error,
  redis.call('ZCOUNT', TRIALS, '(' .. fmt(now), '+inf'), num('trial_ok'), num('retry_us'),
  window_count(OKS), next_trial_at(), #transitions,
}
for _, tr in ipairs(transitions) do
  for _, v in ipairs(tr) do table.insert(reply, v) end
end
return reply
