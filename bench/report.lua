-- wrk script for qgate's benchmarks (bench/benchlib.py runs wrk with it).
--
-- The request comes from the environment, so one script serves every
-- benchmark:
--   WRK_METHOD  GET or POST (default GET)
--   WRK_BODY    the request body (POST), sent as is
--   WRK_CTYPE   its Content-Type
-- At the end it prints one line, "RESULT {json}", with the totals, the
-- error counts (status: answers other than 2xx/3xx) and latency
-- percentiles in microseconds.

local method = os.getenv("WRK_METHOD")
if method and method ~= "" then
  wrk.method = method
end
local body = os.getenv("WRK_BODY")
if body and body ~= "" then
  wrk.body = body
end
local ctype = os.getenv("WRK_CTYPE")
if ctype and ctype ~= "" then
  wrk.headers["Content-Type"] = ctype
end

done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'RESULT {"requests":%d,"duration_us":%d,"bytes":%d,' ..
    '"err_connect":%d,"err_read":%d,"err_write":%d,"err_status":%d,"err_timeout":%d,' ..
    '"p50_us":%d,"p90_us":%d,"p99_us":%d,"max_us":%d,"mean_us":%.1f}\n',
    summary.requests, summary.duration, summary.bytes,
    e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency.max, latency.mean))
end
