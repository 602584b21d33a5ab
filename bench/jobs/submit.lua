-- wrk script: a stream of async submissions, each a different statement.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
local n = 0
request = function()
  n = n + 1
  return wrk.format(nil, "/query/service", nil,
                    "mode=async&statement=SELECT+" .. n .. "+AS+k")
end
