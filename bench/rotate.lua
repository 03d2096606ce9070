-- wrk script: each request takes the next path of the file in URLS_FILE; at the end one
-- JSON line with requests/s, latency percentiles (ms), errors, and how many answers said
-- they came from the page cache (X-Page-Cache: hit).
local paths = {}
for line in io.lines(os.getenv("URLS_FILE")) do paths[#paths + 1] = line end
local counter = 0
local threads = {}

function setup(thread)
  thread:set("offset", counter * 7919)
  counter = counter + 1
  table.insert(threads, thread)
end

function init(args)
  hits = 0
end

function request()
  offset = offset + 1
  return wrk.format("GET", paths[(offset % #paths) + 1])
end

function response(status, headers, body)
  if (headers["X-Page-Cache"] or headers["x-page-cache"]) == "hit" then hits = hits + 1 end
end

function done(summary, latency, requests)
  local e = summary.errors
  local hits = 0
  for _, thread in ipairs(threads) do hits = hits + thread:get("hits") end
  io.write(string.format(
    '{"requests": %d, "seconds": %.3f, "p50_ms": %.1f, "p95_ms": %.1f, "p99_ms": %.1f, ' ..
    '"connect": %d, "read": %d, "write": %d, "status": %d, "timeout": %d, "hits": %d}\n',
    summary.requests, summary.duration / 1e6, latency:percentile(50) / 1e3, latency:percentile(95) / 1e3,
    latency:percentile(99) / 1e3, e.connect, e.read, e.write, e.status, e.timeout, hits))
end
