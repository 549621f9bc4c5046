-- POST one step on a lead each request: the claim of an offered lead by the store it was offered
-- to, or a progress step by its holder. Each thread walks its own share of the list; further
-- passes over the list (progress only) record the next statuses (contacted, visited, lost).
--   wrk ... -s step.lua URL -- DATA_FILE THREADS SUFFIX STATUS [NEXT_STATUS [THIRD_STATUS]]
-- DATA_FILE defines steps = {{"lead public id", "Bearer ..."}, ...}.
local threads = {}

function setup(thread)
  table.insert(threads, thread)
  thread:set("tid", #threads)
end

function init(args)
  dofile(args[1])
  local count = tonumber(args[2])
  suffix = args[3]
  statuses = {args[4], args[5], args[6]}
  mine = {}
  for i = tid, #steps, count do table.insert(mine, steps[i]) end
  at = 0
  pass = 1
end

function request()
  at = at + 1
  if at > #mine then
    at = 1
    pass = pass + 1
  end
  local lead, token = mine[at][1], mine[at][2]
  local body = "{}"
  local status = statuses[pass]
  if status == "lost" then
    body = '{"status":"lost","lost_reason":"bought_elsewhere"}'
  elseif status ~= nil and status ~= "" and status ~= "-" then
    body = string.format('{"status":"%s"}', status)
  end
  return wrk.format("POST", string.format("/api/v1/leads/%s/%s", lead, suffix),
    {["Authorization"] = token, ["Content-Type"] = "application/json"}, body)
end

-- The first refused answer and the summary line that bench/load.py reads: report.lua beside
-- this script.
dofile(debug.getinfo(1, "S").source:match("^@(.*/)") .. "report.lua")
