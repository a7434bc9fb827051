-- doctor_rules.lua - Conjur's authn-azure host checks, run locally.
--
-- Conjur answers every refused Azure login with the same bare 401 and keeps
-- the reason in its own log.  These functions repeat the server's checks of
-- a host's annotations against the facts of an Azure token, so `doctor`
-- can name the annotation at fault.  They follow the server's rules: a
-- service-scoped annotation (authn-azure/<svc>/<name>) beats the plain one,
-- empty values are ignored, subscription and group are required, the two
-- identity annotations exclude each other, and every comparison is
-- case-sensitive.

local rules = {}

local PREFIX = "authn-azure/"
local NAMES = {
  ["subscription-id"] = true,
  ["resource-group"] = true,
  ["user-assigned-identity"] = true,
  ["system-assigned-identity"] = true,
}

-- The annotation values Conjur will compare, after scoping rules.
-- Returns values (name -> value) and a list of unsupported annotation keys.
function rules.effective(annotations, service_id)
  local plain, scoped, unsupported = {}, {}, {}
  for key, value in pairs(annotations) do
    if key:sub(1, #PREFIX) == PREFIX and value ~= "" then
      local rest = key:sub(#PREFIX + 1)
      local svc, name = rest:match("^(.-)/([^/]+)$")
      if not svc then
        if NAMES[rest] then plain[rest] = value else unsupported[#unsupported + 1] = key end
      elseif svc == service_id then
        if NAMES[name] then scoped[name] = value else unsupported[#unsupported + 1] = key end
      end
    end
  end
  for name, value in pairs(scoped) do
    plain[name] = value
  end
  table.sort(unsupported)
  return plain, unsupported
end

-- What the token offers, as Conjur derives it: subscription and group from
-- xms_mirid, and either a user-assigned identity name or the oid.
function rules.token_facts(mirid, oid)
  local facts = {
    ["subscription-id"] = mirid.subscription,
    ["resource-group"] = mirid.resource_group,
  }
  if mirid.user_assigned then
    facts["user-assigned-identity"] = mirid.name
  else
    facts["system-assigned-identity"] = oid
  end
  return facts
end

local function differs_in_case_only(a, b)
  return a ~= b and a:lower() == b:lower()
end

local function problem(list, key, text, fix)
  list[#list + 1] = { annotation = key, text = text, fix = fix }
end

-- Compare a host's annotations with the token's facts.  Returns a list of
-- problems, each {annotation, text, fix}, in the order the server checks.
function rules.compare(annotations, facts, service_id)
  local values, unsupported = rules.effective(annotations, service_id)
  local problems = {}

  for _, key in ipairs(unsupported) do
    problem(problems, key, "annotation '" .. key .. "' is not supported by authn-azure"
      .. " (CONJ00050E)", "remove it")
  end
  for _, name in ipairs({ "subscription-id", "resource-group" }) do
    if not values[name] then
      problem(problems, PREFIX .. name, "required annotation '" .. PREFIX .. name
        .. "' is missing (CONJ00057E)", PREFIX .. name .. ": " .. facts[name])
    end
  end
  if values["user-assigned-identity"] and values["system-assigned-identity"] then
    problem(problems, PREFIX .. "user-assigned-identity",
      "a host may carry user-assigned-identity or system-assigned-identity, not both"
      .. " (CONJ00055E)", "keep only the one that matches the token")
  end

  local order = { "subscription-id", "resource-group", "user-assigned-identity",
    "system-assigned-identity" }
  for _, name in ipairs(order) do
    local have, want = values[name], facts[name]
    if have and want == nil then
      local other = name == "user-assigned-identity" and "system-assigned" or "user-assigned"
      problem(problems, PREFIX .. name, "annotation '" .. PREFIX .. name .. "' expects a "
        .. name:gsub("%-identity$", "") .. " identity, but the token is for a " .. other
        .. " identity (CONJ00049E)", "replace it with the annotation printed below")
    elseif have and have ~= want then
      local why = differs_in_case_only(have, want) and " (they differ only in letter case;"
        .. " Conjur compares case-sensitively)" or ""
      problem(problems, PREFIX .. name, "annotation '" .. PREFIX .. name .. "' is '" .. have
        .. "' but the token says '" .. want .. "'" .. why .. " (CONJ00049E)",
        PREFIX .. name .. ": " .. want)
    end
  end
  return problems
end

-- The annotation lines that would match the token, ready to paste.
function rules.matching_annotations(facts)
  local lines = {
    PREFIX .. "subscription-id: " .. facts["subscription-id"],
    PREFIX .. "resource-group: " .. facts["resource-group"],
  }
  if facts["user-assigned-identity"] then
    lines[#lines + 1] = PREFIX .. "user-assigned-identity: " .. facts["user-assigned-identity"]
  elseif facts["system-assigned-identity"] then
    lines[#lines + 1] = PREFIX .. "system-assigned-identity: "
      .. facts["system-assigned-identity"]
  end
  return lines
end

return rules
