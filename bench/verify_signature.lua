-- wrk script: POST /v1/signatures/verify with one signature and its document's digest, and HTTP
-- Basic client credentials. Environment: QRID_SIG_BODY (the JSON body), QRID_BASIC.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
local basic = os.getenv("QRID_BASIC")
if basic and #basic > 0 then
  wrk.headers["Authorization"] = "Basic " .. basic
end
wrk.body = os.getenv("QRID_SIG_BODY") or "{}"
