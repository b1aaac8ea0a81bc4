-- wrk script for bench/oidc.sh: POST /token, each request with its own authorization code.
-- QRID_CODES: a file of form bodies (grant_type=authorization_code&code=…&redirect_uri=…&
-- code_verifier=…), one a line, each used once (a code is single use); QRID_BASIC: base64 of
-- client_id:client_secret; QRID_WRK_THREADS: wrk's -t; QRID_RID: x-request-id prefix (the
-- service's access log then tells these requests apart: PREFIX<n>-token).
-- Thread k takes lines k, k+t, k+2t, … When a thread has used all its codes it sends
-- one request with a dummy code (answered 400 at once) and stops. wrk itself divides by the whole
-- -d duration, so the rate is computed here from the first request to the last 200, with
-- clock_gettime through LuaJIT's ffi.
local ffi = require("ffi")
ffi.cdef [[
  typedef struct { long tv_sec; long tv_nsec; } qrid_timespec;
  int clock_gettime(int clk_id, qrid_timespec *tp);
]]
local ts = ffi.new("qrid_timespec")
local function now()
  ffi.C.clock_gettime(1, ts) -- CLOCK_MONOTONIC
  return tonumber(ts.tv_sec) + tonumber(ts.tv_nsec) * 1e-9
end

local threads = {}
function setup(thread)
  table.insert(threads, thread)
  thread:set("tid", #threads)
end

function init(args)
  local t = tonumber(os.getenv("QRID_WRK_THREADS") or "2")
  bodies = {}
  local i = 0
  for line in io.lines(os.getenv("QRID_CODES")) do
    if i % t == tid - 1 then bodies[#bodies + 1] = line end
    i = i + 1
  end
  headers = {
    ["authorization"] = "Basic " .. os.getenv("QRID_BASIC"),
    ["content-type"] = "application/x-www-form-urlencoded",
  }
  rid = os.getenv("QRID_RID") or "wrk"
  sent, ok, bad, first, last = 0, 0, 0, 0, 0
end

function request()
  sent = sent + 1
  if sent == 1 then first = now() end
  local body = bodies[sent]
  if body == nil then
    wrk.thread:stop()
    body = "grant_type=authorization_code&code=exhausted"
  end
  headers["x-request-id"] = rid .. string.format("%d", tid * 10000000 + sent) .. "-token"
  return wrk.format("POST", "/token", headers, body)
end

function response(status, hdrs, body)
  if status == 200 then
    ok = ok + 1
    last = now()
  elseif sent <= #bodies then
    bad = bad + 1
  end
end

function done(summary, latency, requests)
  local okall, badall, t0, t1 = 0, 0, math.huge, 0
  for _, t in ipairs(threads) do
    okall = okall + t:get("ok")
    badall = badall + t:get("bad")
    if t:get("first") > 0 then t0 = math.min(t0, t:get("first")) end
    t1 = math.max(t1, t:get("last"))
  end
  io.write(string.format("TOKENS ok=%d failed=%d seconds=%.3f rate=%.1f p50_ms=%.2f p99_ms=%.2f\n",
    okall, badall, t1 - t0, okall / (t1 - t0),
    latency:percentile(50) / 1000, latency:percentile(99) / 1000))
end
