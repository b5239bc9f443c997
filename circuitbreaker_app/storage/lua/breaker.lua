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
-- ARGV: 1 op, 2 test clock offset, 3 the config packed as space-separated
--       words (see RedisStorage._packed_config), 4 '1' when the config was
--       just read from the database and may seed lost state, then per op:
--       5 generation, 6 trial permit, 7 detail or target state, 8 hold,
--       9 reason.
--
-- The reply is full (an array whose first item is 1) for reads, operator
-- actions and any step that made a transition. Plain guarded calls get a
-- lean reply, one string of space-separated words, because redis-py parses
-- one bulk string much faster than an array of nine items.

local op = ARGV[1]
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2]) + tonumber(ARGV[2])

-- One pattern match is cheaper than splitting the words into a table.
local policy, threshold, window, rate_threshold, min_calls, retry, max_retry, backoff,
      half_max, success_threshold, lease, ttl_ms, seed_hold = string.match(ARGV[3],
  '^(%S+) (%S+) (%S+) (%S+) (%S+) (%S+) (%S+) (%S+) (%S+) (%S+) (%S+) (%S+) ?(%S*)$')
threshold, window, rate_threshold = tonumber(threshold), tonumber(window), tonumber(rate_threshold)
min_calls, retry, max_retry = tonumber(min_calls), tonumber(retry), tonumber(max_retry)
backoff, half_max = tonumber(backoff), tonumber(half_max)
success_threshold, lease, ttl_ms = tonumber(success_threshold), tonumber(lease), tonumber(ttl_ms)

local S, CALLS, FAILS, OKS, TRIALS = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]
local transitions = {}
local changed = {}
local touched = {}

-- Lua's tostring keeps only 14 significant digits; microsecond times need 16.
local function fmt(x)
  if type(x) == 'number' then return string.format('%.0f', x) end
  return x
end

local function touch(key) touched[key] = true end

local st = {}
do
  local raw = redis.call('HGETALL', S)
  for i = 1, #raw, 2 do st[raw[i]] = raw[i + 1] end
end

local function set(field, value)
  st[field] = fmt(value)
  changed[field] = true
end

local may_seed = ARGV[4] == '1'
if st.state == nil and not may_seed and op ~= 'snapshot' then
  -- The caller's config may be up to CONFIG_TTL old, and so may its hold;
  -- it reads the row again and retries with may_seed set.
  return 'missing'
end

if st.state == nil then
  -- The cached state was lost (flush, eviction, first use): start closed
  -- unless the row holds the breaker. The generation starts at the
  -- current time, so calls admitted before a flush stay stale after it.
  -- A read shows that state without storing it.
  -- seq starts at the clock too: if only this hash was lost, members of the
  -- surviving sorted sets must not be reused.
  local seed = {state = 'closed', held = seed_hold, gen = now, failures = 0, seq = now,
                opened_at = -1, retry_at = -1, retry_us = retry, trial_ok = 0,
                changed_at = now, reason = '', last_error = ''}
  if seed_hold == 'open' then
    seed.state = 'open'
    seed.opened_at = now
  end
  for field, value in pairs(seed) do set(field, value) end
  if not may_seed then changed = {} end
end

local function num(field) return tonumber(st[field]) end

local function next_seq()
  set('seq', num('seq') + 1)
  return st.seq
end

local function zadd(key, score, member)
  redis.call('ZADD', key, score, member)
  touch(key)
end

local function trim(key)
  redis.call('ZREMRANGEBYSCORE', key, '-inf', fmt(now - window))
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

-- Only a counted failure may trip the breaker, so the rate is checked on
-- failures; a success cannot raise the failure rate.
local function rate_trips()
  trim(FAILS)
  trim(OKS)
  local failures = redis.call('ZCARD', FAILS)
  local total = failures + redis.call('ZCARD', OKS)
  return total >= min_calls and failures * 100 >= rate_threshold * total
end

local function policy_trips()
  if policy == 'consecutive' then
    set('failures', num('failures') + 1)
    return num('failures') >= threshold, 'failure_threshold'
  end
  if policy == 'rate' then return rate_trips(), 'failure_rate' end
  trim(FAILS)
  return redis.call('ZCARD', FAILS) >= threshold, 'failure_threshold'
end

local allowed, trial = -1, -1

local function admit_call()
  local seq = next_seq()
  zadd(CALLS, now, seq)
  trim(CALLS)
  return seq
end

local function admit()
  allowed = 0
  if st.state == 'closed' then
    allowed = 1
    admit_call()
  elseif st.state == 'half_open' then
    redis.call('ZREMRANGEBYSCORE', TRIALS, '-inf', fmt(now))
    if redis.call('ZCARD', TRIALS) < half_max then
      allowed = 1
      trial = admit_call()
      zadd(TRIALS, now + lease, trial)
    end
  end
end

local function failure()
  if ARGV[5] ~= st.gen then return end
  zadd(FAILS, now, next_seq())
  set('last_error', ARGV[7])
  if st.state == 'half_open' then
    redis.call('ZREM', TRIALS, ARGV[6])
    open('trial_failed', math.min(math.floor(num('retry_us') * backoff), max_retry))
  elseif st.state == 'closed' then
    local trips, reason = policy_trips()
    if trips and st.held ~= 'closed' then open(reason, retry) end
  end
end

local function success()
  if ARGV[5] ~= st.gen then return end
  if st.state == 'half_open' then
    redis.call('ZREM', TRIALS, ARGV[6])
    set('trial_ok', num('trial_ok') + 1)
    if num('trial_ok') >= success_threshold then close('trial_succeeded') end
  elseif st.state == 'closed' then
    if policy == 'consecutive' and num('failures') > 0 then set('failures', 0) end
    if policy == 'rate' then
      zadd(OKS, now, next_seq())
      trim(OKS)
    end
  end
end

local function force()
  local target, hold, reason = ARGV[7], ARGV[8], ARGV[9]
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
elseif op == 'release' then redis.call('ZREM', TRIALS, ARGV[6])
elseif op == 'force' then force()
elseif op == 'release_hold' then release_hold()
end

local fields = {}
for field in pairs(changed) do
  table.insert(fields, field)
  table.insert(fields, st[field])
end
if #fields > 0 then
  redis.call('HSET', S, unpack(fields))
  touch(S)
end
-- Every key that was written gets its TTL again, so the keys of an unused
-- breaker expire.
for key in pairs(touched) do redis.call('PEXPIRE', key, ttl_ms) end
if #transitions > 0 then
  for i = 1, 5 do redis.call('PEXPIRE', KEYS[i], ttl_ms) end
end

local function next_trial_at()
  local first = redis.call('ZRANGEBYSCORE', TRIALS, '(' .. fmt(now), '+inf', 'WITHSCORES', 'LIMIT', 0, 1)
  if #first == 0 then return -1 end
  return tonumber(first[2])
end

local full = op == 'snapshot' or op == 'force' or op == 'release_hold' or #transitions > 0
if not full then
  local consecutive = -1
  if policy == 'consecutive' then consecutive = num('failures') end
  local next_at = -1
  if allowed == 0 and st.state == 'half_open' then next_at = next_trial_at() end
  -- One string instead of an array: the client parses one item, not nine.
  return table.concat({0, st.state, st.gen, fmt(consecutive), allowed, fmt(trial), st.retry_at,
                       fmt(now), fmt(next_at)}, ' ')
end

local reply = {
  1, st.state, st.held, num('gen'), failure_count(), window_count(CALLS),
  num('retry_at'), num('opened_at'), now, tonumber(trial), allowed,
  num('changed_at'), st.reason, st.last_error,
  redis.call('ZCOUNT', TRIALS, '(' .. fmt(now), '+inf'), num('trial_ok'), num('retry_us'),
  window_count(OKS), next_trial_at(), #transitions,
}
for _, tr in ipairs(transitions) do
  for _, v in ipairs(tr) do table.insert(reply, v) end
end
return reply
