-- wrk script of the intake benchmark: each request is a unit's first report of one period of one plan, as a
-- unit's machine client sends it (its own API token, an Idempotency-Key of its own), no unit x plan x period twice.
--
--   wrk -t2 -c64 -d5s -s bench/wrk/submissions.lua URL -- UNITS_FILE BODY_FILE SLOTS_FILE OFFSET TAG THREADS
--
-- UNITS_FILE: one "unit<TAB>token" a line. BODY_FILE: the JSON body with {plan}, {unit} and {period} to fill in.
-- SLOTS_FILE: one "plan<TAB>period" a line, each a plan's period open for reports now; OFFSET: the first slot
-- this run uses, so runs never repeat a unit x slot. Request n of the run (over all threads) goes to unit
-- n mod #units and slot OFFSET + n div #units. TAG makes the Idempotency-Keys this run's own.
-- `done` prints one line "BENCH_JSON {...}": counts by status, wrk's errors, and latency percentiles (us).

local threads = {}

function setup(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end

local units, tokens = {}, {}
local slot_plans, slot_periods = {}, {}
local body_template, offset, tag, nthreads
local id, sent = 0, 0
statuses = {}
sample = ""

function init(args)
  for line in io.lines(args[1]) do
    local unit, token = line:match("^([^\t]+)\t([^\t]+)$")
    if unit then
      units[#units + 1] = unit
      tokens[#tokens + 1] = token
    end
  end
  local f = assert(io.open(args[2], "r"))
  body_template = f:read("*a")
  f:close()
  for line in io.lines(args[3]) do
    local plan, period = line:match("^([^\t]+)\t([^\t]+)$")
    if plan then
      slot_plans[#slot_plans + 1] = plan
      slot_periods[#slot_periods + 1] = period
    end
  end
  offset, tag, nthreads = tonumber(args[4]), args[5], tonumber(args[6])
  id = wrk.thread:get("id")
end

function request()
  local n = id + sent * nthreads
  sent = sent + 1
  local u = n % #units + 1
  local slot = offset + math.floor(n / #units) + 1
  local body = body_template:gsub("{plan}", slot_plans[slot] or "out-of-slots"):gsub("{unit}", units[u])
  body = body:gsub("{period}", slot_periods[slot] or "0000-00")
  local headers = {
    ["Content-Type"] = "application/json",
    ["Authorization"] = "Bearer " .. tokens[u],
    ["Idempotency-Key"] = tag .. "-" .. id .. "-" .. sent,
  }
  return wrk.format("POST", "/v1/submissions", headers, body)
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
  if status >= 300 and sample == "" and body then
    sample = status .. " " .. body:sub(1, 300):gsub("[%c\"\\]", " ")
  end
end

function done(summary, latency, requests)
  local codes, parts, first_sample = {}, {}, ""
  for _, thread in ipairs(threads) do
    for status, count in pairs(thread:get("statuses")) do
      codes[status] = (codes[status] or 0) + count
    end
    local s = thread:get("sample")
    if first_sample == "" and s then first_sample = s end
  end
  for status, count in pairs(codes) do
    parts[#parts + 1] = string.format('"%d":%d', status, count)
  end
  local e = summary.errors
  io.write(string.format(
    'BENCH_JSON {"requests":%d,"duration_us":%d,"statuses":{%s},' ..
    '"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},' ..
    '"latency_us":{"p50":%d,"p90":%d,"p95":%d,"p99":%d,"max":%d,"mean":%.1f},"sample":"%s"}\n',
    summary.requests, summary.duration, table.concat(parts, ","),
    e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(95), latency:percentile(99),
    latency.max, latency.mean, first_sample))
end
