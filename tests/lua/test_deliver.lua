-- The deliver module: templates, formats, files, stdout, exec errors.
-- Processes and signals are exercised in tests/integration/test_deliver.py.
local tap = require "tap"
local deliver = require "deliver"

-- A secret without Conjur: a template's result is one.
local function secret(text)
  return deliver.template("{{ v }}", { v = text })
end

local tricky = "line one\nit's \"q\" $HOME \\ \u{fc}"

tap.check("template returns a secret",
  tostring(secret("x")):find("^secret%(template") ~= nil)
tap.check("a template result is never a string", type(secret("x")) ~= "string")

-- template: { description, text, values, expected }
local templates = {
  { "plain text passes", "no placeholders", {}, "no placeholders" },
  { "a value", "a={{ v }}.", { v = "x" }, "a=x." },
  { "no blanks needed", "{{v}}", { v = "x" }, "x" },
  { "secret value", "[{{ v }}]", { v = secret("s3") }, "[s3]" },
  { "number value", "{{ n }}", { n = 42 }, "42" },
  { "dotted and slashed names", "{{ db.pass }}{{ app/x }}",
    { ["db.pass"] = "1", ["app/x"] = "2" }, "12" },
  { "base64", "{{ v | base64 }}", { v = "hi?" }, "aGk/" },
  { "base64 padding", "{{ v|base64 }}", { v = "a" }, "YQ==" },
  { "json", "{{ v | json }}", { v = tricky },
    '"line one\\nit\'s \\"q\\" $HOME \\\\ \u{fc}"' },
  { "json control bytes", "{{ v | json }}", { v = "\0\1\127" },
    '"\\u0000\\u0001\\u007f"' },
  { "urlencode", "{{ v | urlencode }}", { v = "a b/c?d=e&f~_.-\u{fc}" },
    "a%20b%2Fc%3Fd%3De%26f~_.-%C3%BC" },
  { "shell", "{{ v | shell }}", { v = tricky },
    "'line one\nit'\\''s \"q\" $HOME \\ \u{fc}'" },
  { "shell empty", "{{ v | shell }}", { v = "" }, "''" },
  { "chained filters", "{{ v | base64 | json }}", { v = "a" }, '"YQ=="' },
  { "literal braces", '{{ "{{" }} x }}', {}, "{{ x }}" },
  { "single braces pass", "{ v } }}", { v = "x" }, "{ v } }}" },
  { "empty template", "", {}, "" },
}
for _, c in ipairs(templates) do
  local ok, got = pcall(deliver.template, c[2], c[3])
  tap.equal("template: " .. c[1], ok and got:reveal() or tostring(got), c[4])
end

local template_errors = {
  { "unknown name", "x {{ missing }}", {},
    "template line 1: no value named 'missing'" },
  { "line number", "a\nb\n{{ x | nope }}", { x = "1" },
    "template line 3: unknown filter 'nope' (base64, json, shell, urlencode)" },
  { "unterminated", "{{ x ", { x = "1" }, "template line 1: expected '}}'" },
  { "no name", "{{ }}", {}, "template line 1: expected a name after '{{'" },
  { "table value", "{{ t }}", { t = {} },
    "template line 1: value 't' is not a string or secret" },
  { "shell cannot hold NUL", "{{ v | shell }}", { v = "a\0" },
    "template line 1: filter 'shell': holds a NUL byte at offset 1, which " ..
    "a shell word cannot carry" },
  { "json needs UTF-8", "{{ v | json }}", { v = "\xff" },
    "template line 1: filter 'json': is not valid UTF-8 at byte offset 0" },
}
for _, c in ipairs(template_errors) do
  local err = tap.raises("template error: " .. c[1],
    function() deliver.template(c[2], c[3]) end, c[4])
  tap.equal("template error code: " .. c[1],
    type(err) == "table" and err.code, "bad_input")
end
tap.raises("template needs a table", function() deliver.template("x") end,
  "bad argument #2 to 'template'")

-- format: every kind with the same tricky values.
local values = {
  B = secret(tricky), A = "plain", C = "", D = "cr\rtab\t",
}
local formats = {
  dotenv = 'A="plain"\nB="line one\\nit\'s \\"q\\" \\$HOME \\\\ \u{fc}"\n' ..
    'C=""\nD="cr\\rtab\t"\n',
  json = '{\n  "A": "plain",\n  "B": "line one\\nit\'s \\"q\\" $HOME \\\\ ' ..
    '\u{fc}",\n  "C": "",\n  "D": "cr\\rtab\\t"\n}\n',
  yaml = '"A": "plain"\n"B": "line one\\nit\'s \\"q\\" $HOME \\\\ \u{fc}"\n' ..
    '"C": ""\n"D": "cr\\rtab\\t"\n',
  properties = "A=plain\nB=line one\\nit's \"q\" $HOME \\\\ \\u00fc\nC=\n" ..
    "D=cr\\rtab\\t\n",
  shell = "export A='plain'\nexport B='line one\nit'\\''s \"q\" $HOME \\ " ..
    "\u{fc}'\nexport C=''\nexport D='cr\rtab\t'\n",
}
for kind, want in pairs(formats) do
  local out = deliver.format(values, kind)
  tap.check("format " .. kind .. " returns a secret", type(out) == "userdata")
  tap.equal("format " .. kind, out:reveal(), want)
end

-- the formats that have a parser here read back what we wrote
local json = require "json"
local yaml = require "yaml"
local back = json.decode(deliver.format(values, "json"):reveal())
tap.equal("json reads back byte for byte", back.B, tricky)
back = yaml.decode(deliver.format(values, "yaml"):reveal())
tap.equal("yaml reads back byte for byte", back.B, tricky)
tap.equal("yaml carries NUL and controls",
  yaml.decode(deliver.format({ X = "a\0b\1\u{85}" }, "yaml"):reveal()).X,
  "a\0b\1\u{85}")

local more = {
  { "empty json", {}, "json", "{}\n" },
  { "empty yaml", {}, "yaml", "{}\n" },
  { "empty dotenv", {}, "dotenv", "" },
  { "dotenv escapes backticks", { A = "`id`" }, "dotenv", 'A="\\`id\\`"\n' },
  { "json NUL", { X = "\0" }, "json", '{\n  "X": "\\u0000"\n}\n' },
  { "yaml keys are quoted", { ["true"] = "yes" }, "yaml", '"true": "yes"\n' },
  { "properties key escapes", { ["a b=c:d"] = " lead" }, "properties",
    "a\\ b\\=c\\:d=\\ lead\n" },
  { "properties astral plane", { K = "\u{1F600}" }, "properties",
    "K=\\ud83d\\ude00\n" },
  { "properties NUL", { K = "\0" }, "properties", "K=\\u0000\n" },
  { "sorted bytewise", { b = "2", B = "1", a = "3" }, "dotenv",
    'B="1"\na="3"\nb="2"\n' },
}
for _, c in ipairs(more) do
  tap.equal("format: " .. c[1], deliver.format(c[2], c[3]):reveal(), c[4])
end

local format_errors = {
  { "dotenv NUL", { K = "a\0" }, "dotenv",
    "value of 'K': holds a NUL byte at offset 1, which a dotenv file " ..
    "cannot carry" },
  { "shell NUL", { K = "\0" }, "shell",
    "value of 'K': holds a NUL byte at offset 0, which a shell word cannot " ..
    "carry" },
  { "dotenv name", { ["A-B"] = "x" }, "dotenv",
    "name 'A-B' is not a valid variable name for dotenv" },
  { "shell name", { ["1X"] = "x" }, "shell",
    "name '1X' is not a valid variable name for shell" },
  { "json non-UTF-8", { K = "ok\xc3" }, "json",
    "value of 'K': is not valid UTF-8 at byte offset 2, which JSON cannot " ..
    "carry (encode it with base64 first)" },
  { "yaml surrogate", { K = "\xed\xa0\x80" }, "yaml",
    "value of 'K': is not valid UTF-8 at byte offset 0" },
  { "properties overlong", { K = "\xc0\xaf" }, "properties",
    "value of 'K': is not valid UTF-8" },
  { "empty name", { [""] = "x" }, "json",
    "an empty name cannot be written as json" },
  { "table value", { K = {} }, "json",
    "value of 'K' is not a string or secret" },
}
for _, c in ipairs(format_errors) do
  local err = tap.raises("format error: " .. c[1],
    function() deliver.format(c[2], c[3]) end, c[4])
  tap.equal("format error code: " .. c[1],
    type(err) == "table" and err.code, "bad_input")
end
tap.raises("format: unknown kind", function() deliver.format({}, "xml") end,
  "unknown format 'xml' (dotenv, json, yaml, properties, shell)")
tap.raises("format: error does not show the value",
  function() deliver.format({ K = "hunter2\0" }, "shell") end, "K")
local _, e = pcall(deliver.format, { K = "hunter2\0" }, "shell")
tap.check("format error message has no value bytes",
  not tostring(e):find("hunter2", 1, true))

-- file
local dir = deliver.tempdir()
local path = dir:path() .. "/f.conf"
tap.equal("file: first write", deliver.file(path, secret("one")), true)
tap.equal("file: same content again", deliver.file(path, secret("one")), false)
tap.equal("file: new content", deliver.file(path, "two"), true)
tap.equal("file: mode change rewrites", deliver.file(path, "two",
  { mode = "0640" }), true)
tap.equal("file: same mode as integer", deliver.file(path, "two",
  { mode = 416 }), false)
local fh = assert(io.open(path, "rb"))
tap.equal("file: content", fh:read("a"), "two")
fh:close()
tap.raises("file: bad mode", function()
  deliver.file(path, "x", { mode = "0999" })
end, "bad option 'mode'")
tap.raises("file: mode out of range", function()
  deliver.file(path, "x", { mode = 8 ^ 5 // 1 })
end, "bad option 'mode'")
tap.raises("file: unknown option", function()
  deliver.file(path, "x", { perms = 1 })
end, "unknown option 'perms'")
tap.raises("file: unknown user", function()
  deliver.file(path, "x", { owner = "no-such-user-azc" })
end, "no such user: 'no-such-user-azc'")
tap.raises("file: a directory", function()
  deliver.file(dir:path(), "x")
end, "it is not a regular file")
tap.raises("file: missing directory", function()
  deliver.file(dir:path() .. "/no/such", "x")
end, "cannot create a temporary file in '" .. dir:path() .. "/no'")

-- tempdir
local tpath = dir:file("token", secret("t0k"))
tap.equal("tempdir: file path", tpath, dir:path() .. "/token")
tap.raises("tempdir: plain names only", function() dir:file("../x", "y") end,
  "a plain file name")
tap.raises("tempdir: NUL in a name", function() dir:file("a\0b", "y") end,
  "holds a NUL byte")
tap.raises("file: NUL in the path", function()
  deliver.file(dir:path() .. "/f\0.bak", "y")
end, "holds a NUL byte")
tap.check("file: nothing written for a NUL path",
  io.open(dir:path() .. "/f") == nil)
dir:remove()
tap.check("tempdir: removed", io.open(tpath) == nil)
tap.raises("tempdir: use after remove", function() dir:path() end,
  "already removed")
tap.check("tempdir: tostring", tostring(dir):find("removed") ~= nil)

-- exec argument checks (running processes is tested from Python)
tap.raises("exec: secret in argv", function()
  deliver.exec({ "echo", secret("pw") }, { supervise = true })
end, "argument 2 of the command is a secret")
tap.raises("exec: NUL in argv", function()
  deliver.exec({ "echo", "a\0b" }, { supervise = true })
end, "argument 2 of the command holds a NUL byte")
tap.raises("exec: empty argv", function() deliver.exec({}) end,
  "the command is empty")
tap.raises("exec: unknown option", function()
  deliver.exec({ "true" }, { supervize = true })
end, "unknown option 'supervize'")
local err = tap.raises("exec: not found", function()
  deliver.exec({ "azconjur-no-such-command" }, { supervise = true })
end, "cannot run 'azconjur-no-such-command': command not found in PATH")
tap.equal("exec: not found exit code", err.exit_code, 127)
err = tap.raises("exec: not executable", function()
  deliver.exec({ "/etc/hostname" }, { supervise = true })
end, "cannot run '/etc/hostname'")
tap.equal("exec: not executable exit code", err.exit_code, 126)
tap.raises("exec: NUL in env", function()
  deliver.exec({ "true" }, { env = { X = "a\0b" }, supervise = true })
end, "value of environment variable 'X' holds a NUL byte")
tap.equal("exec: supervised status", deliver.exec({ "false" },
  { supervise = true }), 1)

tap.done()
