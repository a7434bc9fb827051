-- cmd.doctor: argument parsing and the local claim checks, table-driven.
local tap = require "tap"
local doctor = require "cmd.doctor"

local opts = doctor.parse_args({ "doctor", "--json", "--reader-token-file", "/r", "app/x" })
tap.check("parse --json", opts.json == true)
tap.equal("parse --reader-token-file", opts.reader, "/r")
tap.equal("parse ID", opts.id, "app/x")
tap.equal("parse --reader-token-file=", doctor.parse_args({ "doctor",
  "--reader-token-file=/q" }).reader, "/q")
tap.raises("two IDs are a usage error", function()
  doctor.parse_args({ "doctor", "a", "b" })
end, "at most one ID")
tap.raises("unknown option", function()
  doctor.parse_args({ "doctor", "--bogus" })
end, "unknown option '--bogus'")

local NOW = 1700000000
local MIRID = "/subscriptions/s/resourcegroups/Rg/providers/Microsoft.Compute/virtualMachines/vm"
local function claims(edit)
  local c = { iss = "https://sts.windows.net/t/", exp = NOW + 600, oid = "o", xms_mirid = MIRID }
  for k, v in pairs(edit) do
    if v == false then c[k] = nil else c[k] = v end
  end
  return c
end

local cases = {
  { "a good v1 token passes", {}, nil },
  { "a v2 issuer is flagged", { iss = "https://login.microsoftonline.com/t/v2.0" },
    "not a v1 issuer" },
  { "an expired token is flagged", { exp = NOW - 5 }, "(CONJ00016E)" },
  { "a token not yet valid is flagged", { nbf = NOW + 60 }, "not valid before" },
  { "a second of clock skew is not flagged", { nbf = NOW + 1 }, nil },
  { "a missing oid is flagged", { oid = false }, "no 'oid' claim" },
  { "a missing xms_mirid is flagged", { xms_mirid = false }, "no 'xms_mirid' claim" },
  { "an App Service slot is flagged",
    { xms_mirid = "/subscriptions/s/resourcegroups/rg/providers/Microsoft.Web/sites/a/slots/b" },
    "deployment slots have five provider segments" },
  { "a mirid without resourcegroups is flagged",
    { xms_mirid = "/subscriptions/s/providers/Microsoft.Compute/virtualMachines/vm" },
    "CONJ00053E" },
}

for _, c in ipairs(cases) do
  local problems = doctor.judge_claims(claims(c[2]), NOW)
  if c[3] == nil then
    tap.equal(c[1], #problems, 0)
  else
    local text = problems[1] or "(no problem found)"
    tap.check(c[1], #problems == 1 and text:find(c[3], 1, true) ~= nil, text)
  end
end

local _, mirid = doctor.judge_claims(claims({}), NOW)
tap.equal("the group keeps its case", mirid.resource_group, "Rg")

tap.done()
