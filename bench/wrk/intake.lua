-- POST a lead: a random store of one city shares a customer of another city (coordinates
-- given), so the service shares it out of region and routes it. The same requests go to the
-- bare anchor. Unique phone numbers per run, thread and request: no duplicate is refused.
--   wrk ... -s intake.lua URL -- DATA_FILE RUN PATH
-- DATA_FILE (written by bench/intake.py) defines tokens, homes (each token's city), cities and
-- brands.
local threads = {}
local counter = 0

function setup(thread)
  table.insert(threads, thread)
  thread:set("tid", #threads)
end

function init(args)
  dofile(args[1])
  run = tonumber(args[2])
  path = args[3]
  math.randomseed(run * 1000 + tid)
end

function request()
  counter = counter + 1
  local who = math.random(#tokens)
  local city = math.random(#cities - 1)
  if city >= homes[who] then city = city + 1 end
  local lat = cities[city][1] + (math.random() - 0.5) * 0.16
  local lon = cities[city][2] + (math.random() - 0.5) * 0.16
  local phone = string.format("139%02d%d%05d", run % 100, tid, counter % 100000)
  local body = string.format(
    '{"customer":{"name":"客户%d-%d-%d","phone":"%s"},' ..
    '"location":{"latitude":%.6f,"longitude":%.6f},"brand":"%s","model":"A6L",' ..
    '"timeframe":"1m","source":{"channel":"livestream","campaign":"双11直播"},' ..
    '"consent_to_share":true}',
    run, tid, counter, phone, lat, lon, brands[math.random(#brands)])
  return wrk.format("POST", path,
    {["Authorization"] = tokens[who], ["Content-Type"] = "application/json"}, body)
end

-- The first refused answer and the summary line that bench/load.py reads: report.lua beside
-- this script.
dofile(debug.getinfo(1, "S").source:match("^@(.*/)") .. "report.lua")
