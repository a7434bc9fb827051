-- demo.lua - the whole azconjur flow, step by step, against the local
-- emulators started by scripts/demo.  Every secret is shown masked: its
-- id, length and a digest prefix, never its value.
--
--   azconjur run scripts/demo.lua WORKDIR

local conjur = require "conjur"
local deliver = require "deliver"
local env = require "env"
local azure = require "azure"

local workdir = assert(arg[1], "usage: demo.lua WORKDIR")
local step = 0

local function say(fmt, ...)
  io.stdout:write(fmt:format(...), "\n")
  io.stdout:flush()
end

local function heading(text)
  step = step + 1
  say("")
  say("== %d. %s", step, text)
end

-- "S*****************d (21 bytes, sha256 3f2a9c1e...)" without the value
local function masked(s)
  return ("%s: %d bytes, sha256 %s..."):format(tostring(s), #s,
    s:sha256():sub(1, 12))
end

heading("platform token (Azure managed identity)")
local t = azure.token()
local c = t:claims()
say("source %s, expires_on %d", t.source, t.expires_on)
say("xms_mirid %s", c.xms_mirid or "?")

heading("authenticate with Conjur (authn-azure/" ..
  (env.get("CONJUR_SERVICE_ID") or "?") .. ")")
local client <close> = conjur.connect()
local token = client:token()
say("host %s", env.get("CONJUR_AUTHN_JWT_HOST_ID") or "?")
say("got %s, valid for %d s", tostring(token),
  token.expires_at - token.issued_at)

heading("read three secrets in one batch request")
local values = client:secrets({
  DB_USER = "app/db/username",
  DB_PASSWORD = "app/db/password",
  TRICKY = "app/tricky",
})
for _, name in ipairs({ "DB_USER", "DB_PASSWORD", "TRICKY" }) do
  say("%-12s %s", name, masked(values[name]))
end

heading("write them to a 0600 file, atomically")
local path = workdir .. "/app.env"
local wrote = deliver.file(path, deliver.format(values, "dotenv"))
say("deliver.file(%q) -> %s", path, tostring(wrote))
deliver.exec({ "stat", "-c", "%A %s bytes  %n", path }, { supervise = true })
wrote = deliver.file(path, deliver.format(values, "dotenv"))
say("again with the same content -> %s (nothing written)", tostring(wrote))

heading("start a child process with the values in its environment")
local status = deliver.exec({ "sh", "-c",
  'printf "child: DB_USER=%s, DB_PASSWORD has %d bytes, TRICKY has %d lines\\n"' ..
  ' "$DB_USER" "${#DB_PASSWORD}" "$(printf "%s\\n" "$TRICKY" | wc -l)"' },
  { env = values, supervise = true })
say("child exited with status %d", status)

heading("what the log sees")
require("log").warn("a log line that mentions the password: %s",
  values.DB_PASSWORD:reveal())
say("(the line above went to stderr, masked)")
