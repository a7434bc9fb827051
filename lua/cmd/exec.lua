-- cmd/exec.lua - `azconjur exec`: summon's job in one process.
--
-- Reads secrets.yml, fetches every !var value in one batch, and replaces
-- itself with the command, the values in its environment.  With !file
-- entries the values go to 0600 files in a private directory on a memory
-- file system, and the command runs supervised so the directory can be
-- removed when it ends.  Policy lives here; the mechanisms (batch reads,
-- files, execve, supervision) are the same C functions scripts use
-- through `conjur` and `deliver`.

local deliver = require "deliver"
local secretsyml = require "secretsyml"

local M = {}

M.usage = [[
usage: azconjur exec [-f FILE] [-e ENV] [-D NAME=VALUE]... [--] CMD [ARG...]

Run CMD with the secrets named in a summon-compatible secrets.yml.

  -f, --file FILE         secrets file (default ./secrets.yml)
      --yaml TEXT         secrets.yml content given inline instead of a file
  -e, --environment ENV   use section ENV, merged over common (or default)
  -D, --define NAME=VALUE replace $NAME in the file (write $$ for a $)
  -h, --help              this help
]]

local function err(exit_code, code, fmt, ...)
  local message = select("#", ...) > 0 and fmt:format(...) or fmt
  return setmetatable({ code = code, message = message,
    exit_code = exit_code }, { __tostring = function(e) return e.message end })
end

local function usage_error(fmt, ...)
  error(err(2, "usage", fmt, ...), 0)
end

-- Options up to the first operand; returns opts and the command array.
function M.parse_args(args)
  local opts = { file = "secrets.yml", defines = {} }
  local i = 2
  local function value(name)
    i = i + 1
    if args[i] == nil then
      usage_error("exec: option '%s' needs a value", name)
    end
    return args[i]
  end

  while args[i] do
    local a = args[i]
    local long, inline = a:match("^(%-%-[%w-]+)=(.*)$")
    if long then
      a = long
      table.insert(args, i + 1, inline)
    end
    if a == "--" then
      i = i + 1
      break
    elseif a == "-f" or a == "--file" then
      opts.file = value(a)
    elseif a == "--yaml" then
      opts.yaml = value(a)
    elseif a == "-e" or a == "--environment" then
      opts.env = value(a)
    elseif a == "-D" or a == "--define" then
      local def = value(a)
      local name, v = def:match("^([%w_]+)=(.*)$")
      if not name then
        usage_error("exec: -D takes NAME=VALUE, got '%s'", def)
      end
      opts.defines[name] = v
    elseif a == "-h" or a == "--help" then
      opts.help = true
      return opts, {}
    elseif a:sub(1, 1) == "-" and a ~= "-" then
      usage_error("exec: unknown option '%s' (see azconjur exec --help)", a)
    else
      break
    end
    i = i + 1
  end

  local cmd = table.move(args, i, #args, 1, {})
  if #cmd == 0 then
    usage_error("exec needs a command to run (azconjur exec [OPTIONS] " ..
      "[--] CMD [ARG...])")
  end
  return opts, cmd
end

local function read_secrets_file(path)
  local f, why = io.open(path, "rb")
  if not f then
    error(err(3, "config", "cannot read secrets file: %s", why), 0)
  end
  local text = f:read((1 << 20) + 1)
  f:close()
  if text and #text > (1 << 20) then
    error(err(3, "config", "secrets file '%s' is larger than 1 MiB", path), 0)
  end
  return text or ""
end

local function is_missing(e)
  return type(e) == "table" and e.code == "not_found"
end

-- Values for the !var entries: one batch; when that fails on a missing
-- variable and some entries have defaults, those are read one by one
-- (a 404 gives the default) and the rest again in one batch.
function M.fetch(entries, connect)
  local ids, defaults = {}, {}
  for _, e in ipairs(entries) do
    if e.var then
      ids[e.name] = e.var
      defaults[e.name] = e.default
    end
  end
  if next(ids) == nil then
    return {}
  end

  local client = connect()
  local ok, got = pcall(client.secrets, client, ids)
  if not ok then
    if not (is_missing(got) and next(defaults)) then
      error(got, 0)
    end
    got = {}
    local rest = {}
    for name, id in pairs(ids) do
      if defaults[name] then
        local found, value = pcall(client.secret, client, id)
        if found then
          got[name] = value
        elseif not is_missing(value) then
          error(value, 0)
        end
      else
        rest[name] = id
      end
    end
    if next(rest) then
      for name, value in pairs(client:secrets(rest)) do
        got[name] = value
      end
    end
  end

  for name in pairs(ids) do
    if defaults[name] and (got[name] == nil or #got[name] == 0) then
      got[name] = defaults[name]
    end
  end
  return got
end

-- A file name for an entry inside the private directory.
local function file_name(e, n)
  if e.name:match("^[%w_.-]+$") and e.name ~= "." and e.name ~= ".." then
    return e.name
  end
  return "secret-" .. n
end

function M.main(args, _version, connect)
  local opts, cmd = M.parse_args(args)
  if opts.help then
    io.stdout:write(M.usage)
    return 0
  end

  local text = opts.yaml or read_secrets_file(opts.file)
  local entries = secretsyml.parse(text, { env = opts.env,
    defines = opts.defines, source = opts.yaml and "--yaml" or opts.file })
  local values = M.fetch(entries, connect or function()
    return require("conjur").connect()
  end)

  local env, dir = {}, nil
  for n, e in ipairs(entries) do
    local value = e.var and values[e.name] or e.value
    if e.file then
      dir = dir or deliver.tempdir()
      env[e.name] = dir:file(file_name(e, n), value)
    else
      env[e.name] = value
    end
  end
  if opts.env then
    env.SUMMON_ENV = opts.env
  end

  if not dir then
    deliver.exec(cmd, { env = env }) -- returns only by raising
  end
  local ok, status = pcall(deliver.exec, cmd, { env = env, supervise = true })
  dir:remove()
  if not ok then
    error(status, 0)
  end
  return status
end

return M
