-- luacheck configuration: our globals and the shape of our Lua code.
std = "lua54"
max_line_length = 100
-- `arg` is set by `azconjur run` as under lua(1)
read_globals = { "arg" }
files["tests/lua"] = { std = "+lua54" }
