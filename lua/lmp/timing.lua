-- The time of a result on each hardware of opts.hw: per layer (lmp.roofline, in node.time),
-- and the totals of the phase (result.timing, one entry per hardware, in the order given).
-- Figures in seconds, bytes, FLOP/s fractions and joules; JSON names the units in the keys.
local core = require "lmp.core"
local hardware = require "lmp.hardware"
local roofline = require "lmp.roofline"
local util = require "lmp.util"

local timing = {}

-- hardware_list(opts) -> the checked hardware tables of opts.hw (names, files or tables)
function timing.hardware_list(opts)
  local hw = opts and opts.hw
  if hw == nil then return {} end
  if type(hw) ~= "table" or hw.name then hw = { hw } end
  local list, seen = {}, {}
  for _, h in ipairs(hw) do
    local loaded = type(h) == "table" and h.checked and h or hardware.load(h)
    loaded.checked = true
    if seen[loaded.name] then util.fail(("hardware '%s' is given twice"):format(loaded.name)) end
    seen[loaded.name] = true
    list[#list + 1] = loaded
  end
  return list
end

-- a composite shown without children: the tree was cut (by the row limit), so its basic
-- layers cannot be priced one by one
local function check_whole(nodes)
  for _, n in ipairs(nodes or {}) do
    if not n.children and n.parameters == nil and not n.unknown then
      util.fail(("%s: the layer tree is too large to time layer by layer (its rows were cut); " ..
        "time a smaller model, or raise LMP_MAX_ROWS"):format(n.path))
    end
    check_whole(n.children)
  end
end

-- prune(result, depth): drop the levels from `depth` on, as a walk with that depth shows
-- the tree (0: no rows, the totals alone)
function timing.prune(result, depth)
  if depth == nil then return end
  if depth <= 0 then result.tree = {} return end
  local function cut(nodes, at)
    for _, n in ipairs(nodes) do
      if n.children then
        if at + 1 >= depth then n.children = nil else cut(n.children, at + 1) end
      end
    end
  end
  cut(result.tree, 0)
end

local PHASE_KEY = { prefill = "ttft_s", decode = "tpot_s", train = "step_s" }

local function entry(hw, result, seconds, tokens, gpus)
  local s = roofline.summary(hw, result.totals, result.inputs, seconds, tokens)
  s.hardware, s.title, s.power_W = hw.name, hw.title, hw.power_W
  s.fit = roofline.fit(hw, result.footprint, gpus or 1)
  return s
end

-- step(result, hws, gpus): the times of one analysed step (prefill, decode or train)
function timing.step(result, hws, gpus)
  check_whole(result.tree)
  local i = result.inputs
  local tokens = core.exact.mul(i.batch_size, i.seq_len)
  result.timing = {}
  for _, hw in ipairs(hws) do
    local t = roofline.time_tree(result, hw)
    local seconds = t.seconds
    local optimizer = result.totals.optimizer_bytes and roofline.optimizer_time(hw, result.totals.optimizer_bytes)
    if optimizer then seconds = seconds + optimizer end -- training: the step ends with Adam's
    local e = entry(hw, result, seconds, tonumber(tokens), gpus)
    e.compute_s, e.memory_s, e.floor_s, e.timed_layers = t.compute_s, t.memory_s, t.floor_s, t.layers
    e.seconds_by_bound = t.by_bound
    if optimizer then
      e.optimizer_s, e.backward_s = optimizer, t.backward_s
      e.forward_s = t.seconds - t.backward_s
    end
    e[PHASE_KEY[i.phase]] = seconds
    result.timing[#result.timing + 1] = e
  end
end

-- the decode steps a generate times one by one, at most: the rest are interpolated
-- linearly between them (a step's time is piecewise linear in the cache length: each
-- layer's bytes grow linearly with it, and a roof changes at most once)
timing.DECODE_SAMPLES = 9

-- generate(result, prefill, decode_step, hws, gpus): prefill's timing gives the time to first
-- token; decode_step(kv) -> the analysed one-token step over kv cached tokens (with timing)
function timing.generate(result, prefill, decode_step, hws, gpus)
  local i = result.inputs
  local P, G = i.prompt_len, i.new_tokens
  local first, last = P, P + G - 2 -- the cache lengths of the decode steps
  local kvs = {}
  if G > 1 then
    local n = last - first + 1
    if n <= timing.DECODE_SAMPLES then
      for kv = first, last do kvs[#kvs + 1] = kv end
    else
      for k = 0, timing.DECODE_SAMPLES - 1 do
        local kv = first + (n - 1) * k // (timing.DECODE_SAMPLES - 1)
        if kv ~= kvs[#kvs] then kvs[#kvs + 1] = kv end
      end
    end
  end
  local samples = {}
  for k, kv in ipairs(kvs) do samples[k] = decode_step(kv).timing end
  result.timing = {}
  for h, hw in ipairs(hws) do
    local ttft = prefill.timing[h].seconds
    -- the sum over every step of the piecewise-linear interpolation of the samples
    local decode = 0
    for k = 1, #kvs - 1 do
      local n, t0, t1 = kvs[k + 1] - kvs[k], samples[k][h].seconds, samples[k + 1][h].seconds
      decode = decode + n * t0 + (t1 - t0) * (n - 1) / 2
    end
    if #kvs > 0 then decode = decode + samples[#kvs][h].seconds end
    local e = entry(hw, result, ttft + decode, i.batch_size * G, gpus)
    e.ttft_s = ttft
    e.tpot_s = G > 1 and decode / (G - 1) or nil
    e.decode_s = decode
    e.decode_steps_timed = #kvs
    result.timing[h] = e
  end
end

return timing
