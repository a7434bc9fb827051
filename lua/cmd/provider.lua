-- cmd/provider.lua - `azconjur provider` and the `summon-azconjur` link:
-- a summon provider, in both of the ways summon calls one.
--
-- Stream mode (no argument): one variable id per stdin line, one line of
-- standard base64 per id on stdout, in order, flushed at once because
-- summon waits for the answers.  Ids already waiting on stdin are read in
-- one batch request.  Nothing goes to stderr unless an id
-- fails, since summon treats any stderr output as "stream mode not
-- supported" and falls back to legacy mode.  On a failure we stop after
-- the message: answering the next ids would shift them onto the wrong
-- names.
--
-- Legacy mode (one argument): the raw value on stdout, no newline.

local base64 = require "base64"
local deliver = require "deliver"

local M = {}

M.usage = [[
usage: azconjur provider [ID]      (or the summon-azconjur link)

A summon provider.  With ID, print that variable's value (legacy mode).
Without, read one variable id per line on stdin and answer each with its
value in base64 on one line (stream mode).

  -V, --version   the version, for summon -V
  -h, --help      this help
]]

local function err(exit_code, code, fmt, ...)
  return setmetatable({ code = code, message = fmt:format(...),
    exit_code = exit_code }, { __tostring = function(e) return e.message end })
end

-- Paths that arrive together (summon writes them all at once) are read in
-- one batch; each answer still goes out in input order.
local function stream(connect)
  local reader = require("azconjur.stdin").reader()
  local client
  for lines, first in reader.next, reader do
    for i, line in ipairs(lines) do
      if line == "" then
        error(err(2, "usage", "provider: line %d of stdin is empty; expected " ..
          "a variable id", first + i - 1), 0)
      end
    end
    client = client or connect()
    -- When the batch fails, read singly instead: the ids before the one at
    -- fault still get their answers, and the error names that one.
    local ok, values = pcall(client.secrets, client, lines)
    for _, line in ipairs(lines) do
      local value = ok and values[line] or client:secret(line)
      deliver.stdout(base64.encode(value) .. "\n")
    end
  end
  return 0
end

function M.main(args, version, connect)
  connect = connect or function() return require("conjur").connect() end
  local a = args[2]
  if a == "-V" or a == "--version" then
    io.stdout:write(version, "\n")
    return 0
  elseif a == "-h" or a == "--help" then
    io.stdout:write(M.usage)
    return 0
  elseif #args > 2 then
    error(err(2, "usage", "provider takes at most one variable id"), 0)
  elseif a == "--" or (a and a:sub(1, 1) == "-") then
    error(err(2, "usage", "provider: unknown option '%s'", a), 0)
  elseif a then
    deliver.stdout(connect():secret(a))
    return 0
  end
  return stream(connect)
end

return M
