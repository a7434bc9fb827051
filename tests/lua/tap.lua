-- tap.lua - table-driven checks for Lua tests, printed as TAP lines.
--
--   local tap = require "tap"
--   tap.check("name", condition)
--   tap.raises("name", fn, "expected message fragment")
--   tap.done()   -- exits non-zero when a check failed

local tap = {}
local count, failed = 0, 0
local suite = arg and arg[0] and arg[0]:match("([^/]+)%.lua$") or "lua"

local function report(ok, name, detail)
  count = count + 1
  if ok then
    print(("ok %d - %s: %s"):format(count, suite, name))
  else
    failed = failed + 1
    print(("not ok %d - %s: %s"):format(count, suite, name))
    if detail then
      print("#   " .. tostring(detail):gsub("\n", "\n#   "))
    end
  end
end

function tap.check(name, ok, detail)
  report(ok and true or false, name, detail)
end

function tap.equal(name, got, want)
  report(got == want, name,
    ("got %s, want %s"):format(tostring(got), tostring(want)))
end

-- fn must raise an error whose text contains `fragment` (plain match).
function tap.raises(name, fn, fragment)
  local ok, err = pcall(fn)
  local text = tostring(err)
  report(not ok and (fragment == nil or text:find(fragment, 1, true) ~= nil),
    name, ok and "did not raise" or ("raised: " .. text))
  return err
end

function tap.done()
  if failed > 0 then
    os.exit(1)
  end
end

return tap
