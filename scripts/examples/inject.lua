-- inject.lua - ad-hoc injection of a few secrets into one command, without
-- writing a secrets.yml.
--
--   azconjur run scripts/examples/inject.lua \
--       PGPASSWORD=app/db/password PGUSER=app/db/username -- psql -h db
--
-- Reads all the ids in one batch request, then replaces itself with the
-- command (execve, no shell), the values in its environment only.
local conjur = require "conjur"
local deliver = require "deliver"

local ids, cmd = {}, nil
for i, a in ipairs(arg) do
  if a == "--" then
    cmd = table.move(arg, i + 1, #arg, 1, {})
    break
  end
  local name, id = a:match("^([%a_][%w_]*)=(.+)$")
  if not name then
    error(("expected NAME=VARIABLE_ID or '--', got '%s'"):format(a), 0)
  end
  ids[name] = id
end
if not cmd or #cmd == 0 then
  error("usage: inject.lua NAME=ID... -- COMMAND [ARG...]", 0)
end

local values = conjur.connect():secrets(ids)
deliver.exec(cmd, { env = values })
