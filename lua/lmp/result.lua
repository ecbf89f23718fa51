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

-- ---- one node's figures per instance and over all instances (CSV, lmp.roofline) ----

local core = require "lmp.core"
local exact = core.exact

-- a // b on exact figures; x // 0 is 0
local function div(a, b) return b == 0 and 0 or exact.div(a or 0, b) end

-- the multipliers a node applies to one instance's figures (src/walk.c scale_by_repeat):
-- r its repeat, a its active instances, w the instances a batch of `tokens` can touch
local function own_multipliers(n, tokens)
  local r = n["repeat"]
  local a = n.active or r
  local touched = a < r and exact.mul(a, tokens)
  return { r = r, a = a, w = touched and exact.cmp(touched, r) < 0 and touched or r }
end

-- the multiplier of each figure's scale (core.FIGURES): "reads" is the activation part by
-- the active instances and the weight part by the touched ones
local MULTIPLIER = { ["repeat"] = "r", active = "a", touched = "w" }
result.UNIT = { r = 1, a = 1, w = 1 } -- the multipliers above a root

-- instance_figures(node, above, tokens) -> own, cum, per, all: the node's own multipliers,
-- those with its ancestors' (above), its figures for one instance, and for all instances
-- in the model. tokens: batch_size x seq_len of the run.
function result.instance_figures(n, above, tokens)
  local own = own_multipliers(n, tokens)
  local cum = { r = exact.mul(above.r, own.r), a = exact.mul(above.a, own.a), w = exact.mul(above.w, own.w) }
  local per, all = {}, {}
  for _, f in ipairs(core.FIGURES) do
    local name, scale = f.name, f.scale
    if scale ~= "peak" then
      if scale == "reads" then
        local act, weights = div(exact.sub(n[name] or 0, n.weight_bytes or 0), own.a), div(n.weight_bytes, own.w)
        per[name] = exact.add(act, weights)
        all[name] = exact.add(exact.mul(act, cum.a), exact.mul(weights, cum.w))
      else
        local m = MULTIPLIER[scale]
        per[name] = div(n[name] or 0, own[m])
        all[name] = exact.mul(per[name], cum[m])
      end
    end
  end
  return own, cum, per, all
end

return result
