-- What every benchmark script reports to bench/load.py: the first refused answer of each
-- thread ("!! status body") and, at the end, one summary line ("@@ {json}").
local told = false

function response(status, headers, body)
  if status >= 300 and not told then
    told = true
    io.write(string.format("!! %d %s\n", status, string.sub(body, 1, 300)))
  end
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '@@ {"requests":%d,"duration_us":%d,"p50_us":%d,"p99_us":%d,"errors":%d}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    e.connect + e.read + e.write + e.timeout))
end
