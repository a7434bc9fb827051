-- The yaml module: strict loading of configuration and secrets.yml files.
local tap = require "tap"
local yaml = require "yaml"

local doc = yaml.decode([[
appliance_url: https://conjur.example.com
account: "acme"
port: 443
flag: yes
list: [a, b]
nested:
  deeper: { k: v }
]])
tap.equal("mapping values are strings", doc.appliance_url,
  "https://conjur.example.com")
tap.equal("quoted scalars keep their text", doc.account, "acme")
tap.equal("numbers stay strings (no implicit typing)", doc.port, "443")
tap.equal("booleans stay strings (no implicit typing)", doc.flag, "yes")
tap.equal("sequences become arrays", doc.list[2], "b")
tap.equal("nested mappings load", doc.nested.deeper.k, "v")

local tagged = yaml.decode([[
DB: !var data/db/password
CERT: !var:file data/tls/cert
NAME: !str plain
CORE: !!str 12
]], { tags = true })
tap.equal("application tags are kept", tagged.DB.tag, "!var")
tap.equal("tagged value is kept", tagged.DB.value, "data/db/password")
tap.equal("combined tags are kept whole", tagged.CERT.tag, "!var:file")
tap.equal("core schema tags are dropped", tagged.CORE, "12")
tap.equal("without tags=true tags are dropped",
  yaml.decode("DB: !var x").DB, "x")

tap.check("empty document gives an empty table",
  next(yaml.decode("")) == nil and next(yaml.decode("---\n")) == nil)

local cases = {
  { "a: &x 1\nb: *x", "aliases are not supported at line 2" },
  { "a: [1,", "is not valid YAML" },
  { "a: 1\n---\nb: 2", "only one YAML document is allowed" },
  { "? [a]\n: 1", "mapping keys must be plain scalars" },
  { ("[" ):rep(100), "nesting too deep" },
}
for _, c in ipairs(cases) do
  local err = tap.raises("refuses: " .. c[2], function() yaml.decode(c[1]) end,
    c[2])
  tap.equal("error code for: " .. c[2], type(err) == "table" and err.code,
    "bad_input")
end

tap.done()
