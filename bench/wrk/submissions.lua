-- wrk script of the intake benchmark: each request is a unit's first report of one period, as a unit's
-- machine client sends it (its own API token, an Idempotency-Key of its own), and no unit x period twice.
--
--   wrk -t2 -c64 -d5s -s bench/wrk/submissions.lua URL -- UNITS_FILE BODY_FILE FIRST_PERIOD OFFSET TAG THREADS
--
-- UNITS_FILE: one "unit<TAB>token" a line. BODY_FILE: the JSON body with {unit} and {period} to fill in.
-- FIRST_PERIOD: yyyy-mm of the plan's first period; OFFSET: the first period index this run uses (months
-- after FIRST_PERIOD), so runs never repeat a unit x period. Request n of the run (over all threads) goes
-- to unit n mod #units and period OFFSET + n div #units. TAG makes the Idempotency-Keys this run's own.
-- `done` prints one line "BENCH_JSON {...}": counts by status, wrk's errors, and latency percentiles (us).

local threads = {}

function setup(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end

local units, tokens = {}, {}
local body_template, first_year, first_month, offset, tag, nthreads
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
  first_year, first_month = args[3]:match("^(%d+)-(%d+)$")
  first_year, first_month = tonumber(first_year), tonumber(first_month)
  offset, tag, nthreads = tonumber(args[4]), args[5], tonumber(args[6])
  id = wrk.thread:get("id")
end

function request()
  local n = id + sent * nthreads
  sent = sent + 1
  local u = n % #units + 1
  local month0 = first_month - 1 + offset + math.floor(n / #units)
  local period = string.format("%04d-%02d", first_year + math.floor(month0 / 12), month0 % 12 + 1)
  local body = body_template:gsub("{unit}", units[u]):gsub("{period}", period)
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
