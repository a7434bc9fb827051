-- Read N generated secrets in one run: bench/secret-1 .. bench/secret-N.
local conjur = require "conjur"

local n = math.tointeger(tonumber(arg[1])) or error("usage: read.lua N")
local ids = {}
for i = 1, n do
  ids[i] = "bench/secret-" .. i
end

local client = conjur.connect()
local values = client:secrets(ids)
local bytes = 0
for _, id in ipairs(ids) do
  bytes = bytes + #values[id]
end
io.write(n, " secrets, ", bytes, " bytes\n")
