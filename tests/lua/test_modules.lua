-- Built-in modules of the foundation: json, base64, env, log, secrets.
local tap = require "tap"
local json = require "json"
local base64 = require "base64"
local env = require "env"
local log = require "log"

-- json
tap.equal("json encodes a table", json.encode({ a = "b" }), '{"a":"b"}')
tap.equal("json decodes an object", json.decode('{"x":[1,2]}').x[2], 2)
tap.raises("json rejects malformed text", function() json.decode("{") end,
  "Expected")

-- base64, table-driven
local cases = {
  { "", "" }, { "f", "Zg==" }, { "fo", "Zm8=" }, { "foo", "Zm9v" },
  { "\0\255", "AP8=" },
}
for _, c in ipairs(cases) do
  tap.equal("base64 encode " .. c[2], base64.encode(c[1]), c[2])
  tap.equal("base64 decode " .. c[2], base64.decode(c[2]), c[1])
end
tap.equal("base64 decode skips line breaks", base64.decode("Zm9v\nYmFy\n"),
  "foobar")
local err = tap.raises("base64 decode rejects bad input",
  function() base64.decode("Zm9v*") end, "invalid base64 at byte 5")
tap.equal("base64 error value has a code", type(err) == "table" and err.code,
  "bad_input")
tap.raises("base64 encode rejects a number", function() base64.encode({}) end,
  "bad argument #1 to 'encode'")

-- env
tap.equal("env.get reads a variable", env.get("AZCONJUR_TEST_MARKER"),
  "marker-value")
tap.equal("env.get gives nil for an unset variable", env.get("AZCONJUR_UNSET_X"),
  nil)

-- log
tap.check("log has the four levels", type(log.error) == "function"
  and type(log.warn) == "function" and type(log.info) == "function"
  and type(log.debug) == "function")
tap.equal("log.level reports the run default", log.level(), "info")

-- standard library curation
tap.check("debug library is absent", debug == nil)
tap.check("load refuses binary chunks",
  load(string.dump(function() end)) == nil)
tap.check("package.path has no relative entry",
  not package.path:find(";%./") and not package.path:find("^%./"))

tap.done()
