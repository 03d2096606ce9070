-- wrk script for bench/replicas.sh: the search page with a rotating set of reader queries,
-- and requests per second with p50/p95/p99 latency printed as one parseable line.
local queries = {
  "Waffenruhe", "Drohnenangriff", "Kraftwerk Odessa", "\"Luftabwehr\" Kiew", "Putin -Trump",
  "Munitionsdepot", "Evakuierung", "Selenskyj", "Stromversorgung OR Umspannwerk", "Verhandlungen Friedensplan",
}
local counter = 0

request = function()
  counter = counter + 1
  local q = queries[(counter % #queries) + 1]
  return wrk.format("GET", "/?q=" .. q:gsub("[^%w]", function(c) return string.format("%%%02X", string.byte(c)) end))
end

done = function(summary, latency, requests)
  local seconds = summary.duration / 1e6
  local errors = summary.errors
  io.write(string.format(
    "RESULT requests=%d seconds=%.1f rps=%.1f p50_ms=%.1f p95_ms=%.1f p99_ms=%.1f socket_errors=%d non_2xx=%d\n",
    summary.requests, seconds, summary.requests / seconds,
    latency:percentile(50) / 1000, latency:percentile(95) / 1000, latency:percentile(99) / 1000,
    errors.connect + errors.read + errors.write + errors.timeout, errors.status))
end
