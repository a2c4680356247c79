-- wrk script of qcredit's HTTP benchmarks (cmd/qcredit/bench_http.go).
-- Arguments after --: a file of keys (one a line), the path prefix the key
-- is appended to, and a seed. Each request GETs prefix .. key for a key
-- drawn uniformly from the file; done() prints the result as one JSON line.

local counter = 0

function setup(thread)
   counter = counter + 1
   thread:set("thread_no", counter)
end

local keys, prefix = {}, ""

function init(args)
   for line in io.lines(args[1]) do
      if #line > 0 then keys[#keys + 1] = line end
   end
   prefix = args[2]
   math.randomseed(tonumber(args[3]) * 1000 + (thread_no or 0))
end

function request()
   return wrk.format("GET", prefix .. keys[math.random(#keys)])
end

function done(summary, latency, requests)
   local e = summary.errors
   io.write(string.format(
      'qcredit-wrk {"duration_us":%d,"requests":%d,"bytes":%d,"errors":%d,"p50_us":%d,"p99_us":%d,"max_us":%d}\n',
      summary.duration, summary.requests, summary.bytes, e.connect + e.read + e.write + e.status + e.timeout,
      latency:percentile(50), latency:percentile(99), latency.max))
end
