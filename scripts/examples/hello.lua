-- hello.lua - the smallest tour of the runtime: logging, JSON and base64.
--
--   azconjur run scripts/examples/hello.lua [NAME]
local json = require "json"
local base64 = require "base64"
local log = require "log"

local name = arg[1] or "operator"
log.info("hello, %s: this is azconjur's Lua runtime", name)

local doc = { greeting = "hello", name = name }
io.write(json.encode(doc), "\n")
io.write(base64.encode(json.encode(doc)), "\n")
