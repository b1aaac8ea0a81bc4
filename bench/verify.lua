-- wrk script: POST /v1/verify with one credential payload and HTTP Basic client credentials.
-- Environment: QRID_PAYLOAD, QRID_BASIC (base64 of client_id:client_secret).
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
local basic = os.getenv("QRID_BASIC")
if basic and #basic > 0 then
  wrk.headers["Authorization"] = "Basic " .. basic
end
wrk.body = '{"payload":"' .. (os.getenv("QRID_PAYLOAD") or "") .. '"}'

local non2xx = 0
response = function(status, headers, body)
  if status ~= 200 then non2xx = non2xx + 1 end
end
