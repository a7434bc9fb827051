-- functions-startup.lua - startup hook for an Azure Functions app in a
-- custom container: fetch the app's secrets with the Function App's
-- managed identity, write them where the app reads its settings, then
-- become the Functions host.
--
--   ENTRYPOINT ["azconjur", "run", "/opt/azconjur/functions-startup.lua"]
--
-- (see contrib/azure-functions/).  Settings reach the host two ways:
--   - as environment variables (what app settings are to a function), and
--   - as a JSON file in a memory file system, for code that reads a file.
-- The host is started with execve, so it keeps our pid and gets signals
-- from the platform directly.
local conjur = require "conjur"
local deliver = require "deliver"
local env = require "env"
local log = require "log"

-- app setting name -> Conjur variable
local settings = {
  SqlConnectionPassword = "app/db/password",
  SqlConnectionUser = "app/db/username",
}

local host = arg[1] or "/azure-functions-host/Microsoft.Azure.WebJobs.Script.WebHost"
local settings_file = env.get("AZCONJUR_SETTINGS_FILE") or
  "/dev/shm/azconjur-settings.json"

local values = conjur.connect():secrets(settings)
deliver.file(settings_file, deliver.format(values, "json"), { mode = "0600" })
local count = 0
for _ in pairs(values) do
  count = count + 1
end
log.info("wrote %d settings to %s", count, settings_file)

values.AZCONJUR_SETTINGS_FILE = settings_file
deliver.exec({ host, table.unpack(arg, 2) }, { env = values })
