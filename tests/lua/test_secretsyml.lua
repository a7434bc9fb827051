-- secretsyml parsing and exec's fetch policy, without Conjur.
local tap = require "tap"
local secretsyml = require "secretsyml"
local exec = require "cmd.exec"

local function parse(text, opts)
  local by = {}
  for _, e in ipairs(secretsyml.parse(text, opts)) do
    by[e.name] = e
  end
  return by
end

local e = parse([[
A: !var app/$region/db
B: !var:file app/cert
C: !file:var app/cert
D: costs $$5
E: !str 0012
F: !var:default='ad:min' app/user
G: !default='lit'
H: !file some text
I: 42
J: $$$region
]], { defines = { region = "eu" } })
tap.equal("!var with substitution", e.A.var, "app/eu/db")
tap.check("!var is not a file", e.A.file == false and e.A.value == nil)
tap.check("!var:file", e.B.var == "app/cert" and e.B.file)
tap.check("!file:var", e.C.var == "app/cert" and e.C.file)
tap.equal("$$ is a literal $", e.D.value, "costs $5")
tap.equal("!str keeps text", e.E.value, "0012")
tap.equal("default may hold ':'", e.F.default, "ad:min")
tap.equal("bare default is a literal", e.G.value, "lit")
tap.check("!file literal", e.H.file and e.H.value == "some text")
tap.equal("untagged numbers stay text", e.I.value, "42")
tap.equal("$$ then $name", e.J.value, "$eu")

local list = secretsyml.parse("b: 1\na: 2\nC: 3")
tap.equal("entries sorted by name", list[1].name .. list[2].name ..
  list[3].name, "Cab")

local env = parse([[
common: { A: common-a, B: common-b }
default: { Z: default-z }
prod: { A: prod-a }
]], { env = "prod" })
tap.equal("section wins over common", env.A.value, "prod-a")
tap.equal("common fills in", env.B.value, "common-b")
tap.check("default ignored when common exists", env.Z == nil)
tap.equal("default used without common",
  parse("default: {Z: z}\ndev: {Y: y}", { env = "dev" }).Z.value, "z")

local errors = {
  { "A: !bogus x", nil, "secrets.yml: unknown tag '!bogus' for 'A'" },
  { "A: !var:filez x", nil, "unknown tag '!filez'" },
  { "A: !var $nope", nil,
    "secrets.yml: 'A' uses $nope, which is not defined (pass -D " ..
    "nope=VALUE, or write $$ for a literal $)" },
  { "A: !var", nil, "'A' is tagged !var but names no variable" },
  { "A: x", { env = "prod" },
    "No such environment 'prod' found in secrets file" },
  { "prod: {A: x}", { env = "dev" }, "No such environment 'dev'" },
  { "prod: {A: x}", nil, "'prod' is a section; pick one with -e" },
  { "A: [1, 2]", nil, "the value of 'A' must be a scalar" },
  { "- a\n- b", nil, "expected a mapping of NAME: value" },
  { "A: [", { source = "my.yml" }, "my.yml: " },
  { "summon.files: []", nil, "'summon.files' is not supported" },
  { "\"A=B\": x", nil, "'A=B' is not a usable environment variable name" },
}
for _, c in ipairs(errors) do
  local err = tap.raises("error: " .. c[3], function()
    secretsyml.parse(c[1], c[2])
  end, c[3])
  tap.equal("exit code 3: " .. c[3], type(err) == "table" and err.exit_code, 3)
end

-- exec.parse_args
local opts, cmd = exec.parse_args({ "exec", "-f", "x.yml", "-e", "prod",
  "-D", "a=1", "--define=b=2=3", "--", "prog", "-f", "y" })
tap.equal("parse: file", opts.file, "x.yml")
tap.equal("parse: env", opts.env, "prod")
tap.check("parse: defines", opts.defines.a == "1" and opts.defines.b == "2=3")
tap.equal("parse: command keeps its options", table.concat(cmd, " "),
  "prog -f y")
opts, cmd = exec.parse_args({ "exec", "prog", "-e", "x" })
tap.check("parse: first operand ends options",
  opts.env == nil and #cmd == 3 and opts.file == "secrets.yml")

-- exec.fetch with a fake client: one batch, defaults on 404 only
local function failure(code, message)
  return setmetatable({ code = code, exit_code = 6, message = message },
    { __tostring = function(x) return x.message end })
end
local function missing(id)
  return failure("not_found", "variable '" .. id .. "' not found")
end
local function fake(store, log)
  local client = {}
  function client.secrets(_, ids)
    log[#log + 1] = "batch"
    local out = {}
    for name, id in pairs(ids) do
      if store[id] == nil then error(missing(id), 0) end
      if store[id] == false then
        error(failure("forbidden", "403 " .. id), 0)
      end
      out[name] = store[id]
    end
    return out
  end
  function client.secret(_, id)
    log[#log + 1] = "single " .. id
    if store[id] == nil then error(missing(id), 0) end
    if store[id] == false then
      error(failure("forbidden", "403 " .. id), 0)
    end
    return store[id]
  end
  return function() return client end
end

local store = { ["a"] = "A", ["b"] = "B", ["empty"] = "", ["ro"] = false }
local log = {}
local got = exec.fetch(secretsyml.parse("X: !var a\nY: !var b\nL: lit"),
  fake(store, log))
tap.check("fetch: values", got.X == "A" and got.Y == "B" and got.L == nil)
tap.equal("fetch: one batch", table.concat(log, ","), "batch")

log = {}
got = exec.fetch(secretsyml.parse(
  "X: !var a\nM: !var:default='dm' missing\nE: !var:default='de' empty"),
  fake(store, log))
tap.check("fetch: defaults", got.X == "A" and got.M == "dm" and got.E == "de")
table.sort(log)
tap.equal("fetch: batch, then defaults singly, then the rest in a batch",
  table.concat(log, ","), "batch,batch,single empty,single missing")

log = {}
local err = tap.raises("fetch: 403 is an error despite a default", function()
  exec.fetch(secretsyml.parse("R: !var:default='x' ro"), fake(store, log))
end, "403 ro")
tap.equal("fetch: 403 code", err.code, "forbidden")
tap.raises("fetch: 404 without default is an error", function()
  exec.fetch(secretsyml.parse("M: !var missing\nD: !var:default='x' a"),
    fake(store, {}))
end, "variable 'missing' not found")
tap.equal("fetch: nothing to read needs no client",
  next(exec.fetch(secretsyml.parse("L: lit"), function() error("no") end)),
  nil)

tap.done()
