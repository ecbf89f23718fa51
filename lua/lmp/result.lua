-- The result of an analysis and the nodes of its tree: Lua tables with a few methods and a
-- readable tostring (lmp.Result, lmp.Node).
-- lmp.report on first use: a script that prints no result need not load it
local function report() return require "lmp.report" end

local result = {}
local Result, Node = {}, {}
Result.__index, Node.__index = Result, Node
result.Result, result.Node = Result, Node

function Node:__tostring()
  return ("%s (%s%s): %s FLOPs, %s matmul, %s params"):format(self.path, self.class:match("[^.]+$"),
    self["repeat"] > 1 and (" x" .. self["repeat"]) or "", report().human(self.flops), report().human(self.matmul_flops),
    report().human(self.params))
end

function Result:__tostring()
  local t, i = self.totals, self.inputs
  return ("%s, %s: %s FLOPs (%s matmul), %s params, reads %s, writes %s%s"):format(
    self.model_id or "?", i.phase, report().human(t.flops), report().human(t.matmul_flops), report().human(t.params),
    report().human(t.reads_bytes, true), report().human(t.writes_bytes, true),
    self.complete and "" or (", %d unknown module class%s"):format(#self.unknown_modules,
      #self.unknown_modules == 1 and "" or "es"))
end

-- result:nodes() -> iterator over every node shown, depth first: node, depth
function Result:nodes()
  local stack = {}
  for i = #(self.tree or {}), 1, -1 do stack[#stack + 1] = { self.tree[i], 0 } end
  return function ()
    local top = table.remove(stack)
    if not top then return nil end
    local node, depth = top[1], top[2]
    local kids = node.children or {}
    for i = #kids, 1, -1 do stack[#stack + 1] = { kids[i], depth + 1 } end
    return node, depth
  end
end

-- result:find(pattern [, field]) -> nodes whose path (or class, or the given field)
-- matches the Lua pattern, in tree order
function Result:find(pattern, field)
  local out = {}
  for node in self:nodes() do
    local value = field and node[field] or node.path
    if (type(value) == "string" and value:find(pattern)) or (not field and node.class:find(pattern)) then
      out[#out + 1] = node
    end
  end
  return out
end

-- result:basic_layers() -> the basic (computing) layers shown, in tree order
function Result:basic_layers()
  local out = {}
  for node in self:nodes() do
    if not node.children then out[#out + 1] = node end
  end
  return out
end

-- result:format(fmt) -> text, as lmp.format(result, fmt)
function Result:format(fmt) return report().format(self, fmt or "table") end

-- dress(raw) -> raw, its nodes made Nodes and itself a Result
function result.dress(raw)
  for node in Result.nodes(raw) do setmetatable(node, Node) end
  return setmetatable(raw, Result)
end

return result
