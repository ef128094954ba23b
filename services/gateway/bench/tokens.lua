-- wrk script: every request carries a different bearer token (the JWT cache-miss path).
local tokens = {}
for line in io.lines(os.getenv("TOKENS_FILE")) do tokens[#tokens + 1] = line end
local i = 0
request = function()
  i = i % #tokens + 1
  return wrk.format("GET", nil, {["Authorization"] = "Bearer " .. tokens[i],
                                 ["Origin"] = "http://localhost:5173"})
end
