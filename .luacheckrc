-- luacheck (Debian's lua-check), run by scripts/test: `luacheck .` in the checkout must print
-- no warning. Each part of the tree runs in its own environment:
--   lua/, examples/, bench/: Lua 5.4 in the lmp host (scripts see the API as the global `lmp`)
--   modules_lua/: the calculators' sandbox (src/sandbox.c, sandbox_push_env): a few base
--     functions, math without random, string without dump, table, and `kernels`
--   spec/: Busted inside the host
std = "lua54"
max_line_length = 150
include_files = { "**/*.lua", ".busted", ".luacheckrc" }
-- the fuzz corpus holds hostile and mutated calculators on purpose
exclude_files = { "build*/**", "tests/fuzz/corpus/**" }

local lmp_script = { read_globals = { "lmp" } }
stds.lmp_script = lmp_script

-- what sandbox_push_env copies into a calculator's environment
stds.lmp_calculator = {
  read_globals = {
    "pairs", "ipairs", "next", "select", "type", "tostring", "tonumber", "error", "assert", "pcall",
    "rawequal", "rawlen", "rawget", "_G",
    math = { fields = { "abs", "acos", "asin", "atan", "ceil", "cos", "deg", "exp", "floor", "fmod", "huge",
      "log", "max", "maxinteger", "min", "mininteger", "modf", "pi", "rad", "sin", "sqrt", "tan", "tointeger",
      "type", "ult" } },
    string = { fields = { "byte", "char", "find", "format", "gmatch", "gsub", "len", "lower", "match", "pack",
      "packsize", "rep", "reverse", "sub", "unpack", "upper" } },
    table = { fields = { "concat", "insert", "move", "pack", "remove", "sort", "unpack" } },
    kernels = { other_fields = true }, -- the C kernels (calc.c) and lua/lmp/kernels.lua's
  },
}

files["examples/"] = { std = "+lmp_script" }
files["bench/"] = { std = "+lmp_script" }
files["modules_lua/"] = { std = "lmp_calculator", ignore = { "212/p" } } -- every function takes the parameters p
files["spec/"] = { std = "+busted+lmp_script", max_line_length = 180 } -- long expected messages
-- calculators that misbehave on purpose: reach for os, hog memory, change kernels and string
files["spec/fixtures/modules/"] = { std = "lmp_calculator", ignore = { "212/p", "113/os", "241/t", "122" } }
files["spec/fixtures/agent/"] = { std = "lmp_calculator", ignore = { "212/p" } }
