-- doctor_rules: Conjur's annotation checks, table-driven.
local tap = require "tap"
local rules = require "doctor_rules"

local SUB = "9c8b7a6d-5e4f-4a3b-9c2d-1e0f9a8b7c6d"
local OID = "5e6f7a8b-0001-4000-8000-00000000b001"
local system = rules.token_facts({ subscription = SUB, resource_group = "Default-RG" }, OID)
local user = rules.token_facts({ subscription = SUB, resource_group = "Default-RG",
  user_assigned = true, name = "uami1" }, OID)

local function ann(t)
  local out = {}
  for k, v in pairs(t) do
    out["authn-azure/" .. k] = v
  end
  return out
end

local cases = {
  { "matching subscription and group pass", ann { ["subscription-id"] = SUB,
    ["resource-group"] = "Default-RG" }, system, nil },
  { "resource group differing in case is named",
    ann { ["subscription-id"] = SUB, ["resource-group"] = "default-rg" }, system,
    "differ only in letter case" },
  { "wrong subscription is named", ann { ["subscription-id"] = "other",
    ["resource-group"] = "Default-RG" }, system, "'authn-azure/subscription-id' is 'other'" },
  { "missing resource group is required", ann { ["subscription-id"] = SUB }, system,
    "CONJ00057E" },
  { "unsupported annotation is named", ann { ["subscription-id"] = SUB,
    ["resource-group"] = "Default-RG", ["colour"] = "blue" }, system, "CONJ00050E" },
  { "both identity annotations are refused", ann { ["subscription-id"] = SUB,
    ["resource-group"] = "Default-RG", ["user-assigned-identity"] = "uami1",
    ["system-assigned-identity"] = OID }, user, "CONJ00055E" },
  { "system annotation against a user-assigned token",
    ann { ["subscription-id"] = SUB, ["resource-group"] = "Default-RG",
      ["system-assigned-identity"] = OID }, user, "token is for a user-assigned identity" },
  { "wrong user-assigned name", ann { ["subscription-id"] = SUB,
    ["resource-group"] = "Default-RG", ["user-assigned-identity"] = "uami2" }, user,
    "is 'uami2' but the token says 'uami1'" },
  { "matching user-assigned name passes", ann { ["subscription-id"] = SUB,
    ["resource-group"] = "Default-RG", ["user-assigned-identity"] = "uami1" }, user, nil },
  { "service-scoped annotation beats the plain one", ann { ["subscription-id"] = SUB,
    ["resource-group"] = "wrong", ["prod/resource-group"] = "Default-RG" }, system, nil },
  { "annotation scoped to another service is ignored", ann { ["subscription-id"] = SUB,
    ["resource-group"] = "Default-RG", ["staging/resource-group"] = "x" }, system, nil },
  { "empty annotations are ignored", ann { ["subscription-id"] = SUB,
    ["resource-group"] = "Default-RG", ["system-assigned-identity"] = "" }, system, nil },
}

for _, c in ipairs(cases) do
  local problems = rules.compare(c[2], c[3], "prod")
  if c[4] == nil then
    tap.equal(c[1], #problems, 0)
  else
    local text = problems[1] and problems[1].text or "(no problem found)"
    tap.check(c[1], text:find(c[4], 1, true) ~= nil, text)
  end
end

local lines = rules.matching_annotations(user)
tap.equal("matching annotations name the user-assigned identity", lines[3],
  "authn-azure/user-assigned-identity: uami1")
tap.equal("matching annotations carry the group's exact case", lines[2],
  "authn-azure/resource-group: Default-RG")

tap.done()
