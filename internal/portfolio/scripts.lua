-- The desk's scripts (see portfolio.go). KEYS[1] of every script but page
-- is the client's hash; ARGV[1] the shared manager the caller read from it
-- ("" for none), ARGV[2] the client's ID. A script that finds the client
-- moved since returns -1, and the caller reads the hash and runs it again
-- with the right keys.

local function shared_ok()
  local s = redis.call("HGET", KEYS[1], "s")
  if not s then s = "" end
  return s == ARGV[1]
end

-- KEYS: hash, workspace due, workspace changed[, shared due, shared
-- changed]. ARGV: shared, id, due, changed.
local function record()
  if not shared_ok() then return -1 end
  for i = 2, #KEYS do
    local score = ARGV[3]
    if i % 2 == 1 then score = ARGV[4] end
    redis.call("ZADD", KEYS[i], score, ARGV[2])
  end
  return 1
end

-- KEYS: hash, workspace due and changed, new manager's due and changed[,
-- old manager's due and changed]. ARGV: shared, id, due, changed, new
-- manager.
local function share()
  if not shared_ok() then return -1 end
  if #KEYS >= 7 then
    redis.call("ZREM", KEYS[6], ARGV[2])
    redis.call("ZREM", KEYS[7], ARGV[2])
  end
  for i = 2, 5 do
    local score = ARGV[3]
    if i % 2 == 1 then score = ARGV[4] end
    redis.call("ZADD", KEYS[i], score, ARGV[2])
  end
  redis.call("HSET", KEYS[1], "s", ARGV[5])
  return 1
end

-- KEYS: hash, workspace due[, shared due]. ARGV: shared, id, due. Only
-- where the client is already (XX).
local function snooze()
  if not shared_ok() then return -1 end
  for i = 2, #KEYS do
    redis.call("ZADD", KEYS[i], "XX", ARGV[3], ARGV[2])
  end
  return 1
end

-- KEYS: hash, workspace due and changed[, shared due and changed]. ARGV:
-- shared, id. Returns 1 if the client was on the desk.
local function erase()
  if not shared_ok() then return -1 end
  local n = redis.call("DEL", KEYS[1])
  for i = 2, #KEYS do
    n = n + redis.call("ZREM", KEYS[i], ARGV[2])
  end
  if n > 0 then return 1 end
  return 0
end

-- KEYS: the order's set of each of k sources, then each one's set of the
-- other order. ARGV: mode ("f" first page, "n" after the cursor, "p"
-- before it), the cursor's score, source (1-based) and ID, n.
--
-- The merged order is (score, source, the set's own order), a total order
-- that needs no comparison of IDs: in the cursor's own source the page
-- continues from its rank; in a source before it, entries of the
-- cursor's score came before the cursor, in one after it they come after.
-- Returns total, the number before the page's first entry, then per entry
-- its ID, score, source and other score.
local function page()
  local k = #KEYS / 2
  local mode, cs, ci, cm, n = ARGV[1], ARGV[2], tonumber(ARGV[3]), ARGV[4], tonumber(ARGV[5])
  local cand = {}
  local function take(j, flat, dir)
    for i = 1, #flat, 2 do
      cand[#cand + 1] = {m = flat[i], raw = flat[i + 1], s = tonumber(flat[i + 1]), j = j, o = dir * i}
    end
  end
  for j = 1, k do
    local key = KEYS[j]
    local r = false
    if j == ci then r = redis.call("ZRANK", key, cm) end
    if mode == "f" then
      take(j, redis.call("ZRANGE", key, 0, n, "WITHSCORES"), 1)
    elseif mode == "n" then
      if r then
        take(j, redis.call("ZRANGE", key, r + 1, r + n + 1, "WITHSCORES"), 1)
      elseif j <= ci then
        take(j, redis.call("ZRANGE", key, "(" .. cs, "+inf", "BYSCORE", "LIMIT", 0, n + 1, "WITHSCORES"), 1)
      else
        take(j, redis.call("ZRANGE", key, cs, "+inf", "BYSCORE", "LIMIT", 0, n + 1, "WITHSCORES"), 1)
      end
    else
      if r then
        if r > 0 then
          take(j, redis.call("ZRANGE", key, math.max(0, r - n - 1), r - 1, "WITHSCORES"), 1)
        end
      elseif j >= ci then
        take(j, redis.call("ZRANGE", key, "(" .. cs, "-inf", "BYSCORE", "REV", "LIMIT", 0, n + 1, "WITHSCORES"), -1)
      else
        take(j, redis.call("ZRANGE", key, cs, "-inf", "BYSCORE", "REV", "LIMIT", 0, n + 1, "WITHSCORES"), -1)
      end
    end
  end
  table.sort(cand, function(a, b)
    if a.s ~= b.s then return a.s < b.s end
    if a.j ~= b.j then return a.j < b.j end
    return a.o < b.o
  end)
  local from, to = 1, math.min(n, #cand)
  if mode == "p" then
    from, to = math.max(1, #cand - n + 1), #cand
  end
  local total, before = 0, 0
  for j = 1, k do
    total = total + redis.call("ZCARD", KEYS[j])
  end
  if from <= to then
    local f = cand[from]
    for j = 1, k do
      if j == f.j then
        before = before + redis.call("ZRANK", KEYS[j], f.m)
      elseif j < f.j then
        before = before + redis.call("ZCOUNT", KEYS[j], "-inf", f.raw)
      else
        before = before + redis.call("ZCOUNT", KEYS[j], "-inf", "(" .. f.raw)
      end
    end
  end
  local out = {total, before}
  for i = from, to do
    local c = cand[i]
    local other = redis.call("ZSCORE", KEYS[k + c.j], c.m)
    out[#out + 1] = c.m
    out[#out + 1] = c.raw
    out[#out + 1] = c.j
    out[#out + 1] = other or ""
  end
  return out
end
