-- The module layout of lua/lmp: no module requires its own parent (lmp.agent.llm neither
-- lmp.agent nor lmp), so that nothing `require "lmp"` loads loads lmp back. The front ends,
-- clients of the API, are the exception. Read from the source files, every require whose
-- name is a string literal, wherever it is (lazy ones in a function body count too).
local FRONT_ENDS = { ["lmp.cli"] = true, ["lmp.repl"] = true }

-- line without its comment: from the first "--" outside a string on it
local function code_of(line)
  local from = 1
  while true do
    local at = line:find("--", from, true)
    if not at then return line end
    local before = line:sub(1, at - 1)
    if select(2, before:gsub('"', "")) % 2 == 0 and select(2, before:gsub("'", "")) % 2 == 0 then return before end
    from = at + 2
  end
end

-- the modules a chunk requires by a literal name, in order
local function required_in(text)
  local list = {}
  for line in text:gmatch("[^\n]*") do
    for required in code_of(line):gmatch("require%s*%(?%s*[\"']([%w_.]+)[\"']") do list[#list + 1] = required end
  end
  return list
end

-- module name -> the modules its file requires, as cmake/embed.cmake names the files
local function requires_by_module()
  local out = {}
  local p = assert(io.popen("find lua/lmp -name '*.lua' | sort"))
  for path in p:lines() do
    local name = path:gsub("^lua/", ""):gsub("%.lua$", ""):gsub("/init$", ""):gsub("/", ".")
    local f = assert(io.open(path))
    local text = f:read("a")
    f:close()
    out[name] = required_in(text)
  end
  p:close()
  return out
end

local function is_ancestor(a, name) return name:sub(1, #a + 1) == a .. "." end

describe("lua/lmp's layout", function ()
  local graph = requires_by_module()

  it("is read from the files (the API, its parts and the agent's are there)", function ()
    for _, name in ipairs({ "lmp", "lmp.result", "lmp.inputs", "lmp.paths", "lmp.util", "lmp.agent",
                            "lmp.agent.llm", "lmp.agent.prompt", "lmp.agent.source", "lmp.builders" }) do
      assert.is_table(graph[name], name)
    end
    assert.is_nil(graph["lmp.agent.init"])
  end)

  it("has no module that requires its own parent, but the front ends", function ()
    local found = {}
    for name, list in pairs(graph) do
      for _, required in ipairs(list) do
        if is_ancestor(required, name) and not (FRONT_ENDS[name] and required == "lmp") then
          found[#found + 1] = name .. " requires " .. required
        end
      end
    end
    table.sort(found)
    assert.are.same({}, found)
  end)

  it("loads neither lmp again nor a front end from anything lmp loads", function ()
    local seen, order = { lmp = true }, { "lmp" }
    local i = 1
    while order[i] do
      for _, required in ipairs(graph[order[i]] or {}) do
        assert.are_not.equal("lmp", required, order[i] .. " requires lmp")
        assert.is_nil(FRONT_ENDS[required], order[i] .. " requires the front end " .. required)
        if not seen[required] then seen[required], order[#order + 1] = true, required end
      end
      i = i + 1
    end
    assert.is_true(seen["lmp.phases"] and seen["lmp.db"] and seen["lmp.paths"], "the walk follows requires")
  end)

  it("catches a module that requires its parent (the check itself)", function ()
    assert.are.same({ "lmp", "lmp.agent" }, required_in([[local lmp = require "lmp" -- require "lmp.x"
      -- a comment: require "lmp.y"
      local a = require("lmp.agent") .. "--" .. '--']]))
    assert.is_true(is_ancestor("lmp.agent", "lmp.agent.llm") and is_ancestor("lmp", "lmp.agent.llm"))
    assert.is_false(is_ancestor("lmp.agent", "lmp.agents"))
  end)
end)
