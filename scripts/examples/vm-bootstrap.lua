-- vm-bootstrap.lua - render a service's configuration file from a
-- template and restart the service only when the file changed.  Run it
-- from cloud-init, a systemd ExecStartPre= or a timer (see
-- contrib/systemd/).
--
--   azconjur run scripts/examples/vm-bootstrap.lua \
--       /etc/myapp/config.tmpl /etc/myapp/config.ini myapp [OWNER]
--
-- The template names values with {{ name }} or {{ name | filter }}
-- (filters: base64, json, urlencode, shell), for example:
--
--   [database]
--   user = {{ db_user }}
--   password = {{ db_password | json }}
--   url = postgres://{{ db_user | urlencode }}:{{ db_password | urlencode }}@db/app
local conjur = require "conjur"
local deliver = require "deliver"
local log = require "log"

local template_path, output, service, owner = arg[1], arg[2], arg[3], arg[4]
if not (template_path and output and service) then
  error("usage: vm-bootstrap.lua TEMPLATE OUTPUT SERVICE [OWNER]", 0)
end

-- which Conjur variable each template name comes from
local ids = {
  db_user = "app/db/username",
  db_password = "app/db/password",
}

local f = assert(io.open(template_path, "rb"))
local template = f:read("a")
f:close()

local values = conjur.connect():secrets(ids)
local config = deliver.template(template, values)
local changed = deliver.file(output, config, { mode = "0640", owner = owner,
  group = owner })

if not changed then
  log.info("%s is up to date; %s keeps running", output, service)
  return
end
log.info("wrote %s; restarting %s", output, service)
local status = deliver.exec({ "systemctl", "restart", service },
  { supervise = true })
if status ~= 0 then
  error(("systemctl restart %s failed with status %d"):format(service,
    status), 0)
end
