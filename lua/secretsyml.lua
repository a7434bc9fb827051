-- secretsyml.lua - summon's secrets.yml: tags, $name substitution and
-- environment sections, read the way summon reads them.
--
--   local secretsyml = require "secretsyml"
--   local entries = secretsyml.parse(text, {
--     env = "prod",                  -- -e, optional
--     defines = { region = "eu" },   -- -D name=value
--     source = "secrets.yml",        -- named in error messages
--   })
--
-- Each entry: { name = "DB_PASS", var = "app/db/pass" or nil,
--   value = "literal" or nil, file = true/false, default = "x" or nil },
-- sorted by name.  Errors are raised as error values with code "config"
-- and exit code 3.
--
-- Differences from summon, on purpose: an unknown tag is an error (summon
-- silently treats it as a literal), and `summon.files` is not supported
-- yet (an error says so rather than ignoring it).

local yaml = require "yaml"

local M = {}

local function fail(fmt, ...)
  local message = select("#", ...) > 0 and fmt:format(...) or fmt
  error(setmetatable({ code = "config", message = message, exit_code = 3 },
    { __tostring = function(e) return e.message end }), 0)
end
M.fail = fail

local KNOWN = { var = true, file = true, str = true, int = true,
  bool = true, float = true }

-- "!var:file", "!var:default='x'" -> { var=, file=, default= }
local function read_tag(tag, name, where)
  local kinds = {}
  local body = tag:sub(2)
  -- a default may hold ':' itself, so take it out first
  local before, default, after = body:match("^(.-)default='(.*)'(.*)$")
  if before then
    kinds.default = default
    body = before .. after
  end
  for part in body:gmatch("[^:]+") do
    if not KNOWN[part] then
      fail("%s: unknown tag '!%s' for '%s' (known: !var, !file, !str, " ..
        "!int, !bool, !float, default='...')", where, part, name)
    end
    kinds[part] = true
  end
  return kinds
end

-- Replace $name from defines and $$ by $; an undeclared name is an error.
local function substitute(text, defines, name, where)
  return (text:gsub("%$(%$?)([%w_]*)", function(dollar, word)
    if dollar == "$" then
      return "$" .. word
    end
    if word == "" then
      return "$"
    end
    local value = defines[word]
    if value == nil then
      fail("%s: '%s' uses $%s, which is not defined (pass -D %s=VALUE, " ..
        "or write $$ for a literal $)", where, name, word, word)
    end
    return value
  end))
end

local function entry(name, node, defines, where)
  if type(name) ~= "string" or name == "" or name:find("[=%z]") then
    fail("%s: '%s' is not a usable environment variable name", where,
      tostring(name))
  end
  local tag, text
  if type(node) == "table" and node.tag then
    tag, text = node.tag, node.value
  elseif type(node) == "string" then
    text = node
  else
    fail("%s: the value of '%s' must be a scalar", where, name)
  end

  local kinds = tag and read_tag(tag, name, where) or {}
  local e = { name = name, file = kinds.file == true, default = kinds.default }
  text = substitute(text or "", defines, name, where)
  if kinds.var then
    if text == "" then
      fail("%s: '%s' is tagged !var but names no variable", where, name)
    end
    e.var = text
  elseif tag and kinds.default and not kinds.var and text == "" then
    e.value = kinds.default -- a bare !default='x' is a literal
  else
    e.value = text
  end
  return e
end

-- summon's test: a file has sections when every top-level value is a map.
local function sectioned(doc)
  if next(doc) == nil then
    return false
  end
  for _, v in pairs(doc) do
    if type(v) ~= "table" or v.tag then
      return false
    end
  end
  return true
end

local function entries_of(map, defines, where, out)
  for name, node in pairs(map) do
    out[name] = out[name] or entry(name, node, defines, where)
  end
  return out
end

function M.parse(text, opts)
  opts = opts or {}
  local where = opts.source or "secrets.yml"
  local defines = opts.defines or {}
  local ok, doc = pcall(yaml.decode, text, { tags = true })
  if not ok then
    fail("%s: %s", where, tostring(doc))
  end
  if type(doc) ~= "table" or doc.tag or doc[1] ~= nil then
    fail("%s: expected a mapping of NAME: value", where)
  end
  if doc["summon.files"] ~= nil then
    fail("%s: 'summon.files' is not supported by azconjur exec yet; use " ..
      "!var:file entries or a script with deliver.file", where)
  end

  local chosen = {}
  if opts.env then
    if not sectioned(doc) or doc[opts.env] == nil then
      fail("%s: No such environment '%s' found in secrets file", where,
        opts.env)
    end
    entries_of(doc[opts.env], defines, where, chosen)
    local common = doc.common or doc.default
    if common then
      entries_of(common, defines, where, chosen)
    end
  else
    for name, node in pairs(doc) do
      if type(node) == "table" and not node.tag and node[1] == nil then
        fail("%s: '%s' is a section; pick one with -e ENVIRONMENT", where,
          name)
      end
    end
    entries_of(doc, defines, where, chosen)
  end

  local list = {}
  for _, e in pairs(chosen) do
    list[#list + 1] = e
  end
  table.sort(list, function(a, b) return a.name < b.name end)
  return list
end

return M
