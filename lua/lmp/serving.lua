-- Serving plans: on a hardware and a tensor/pipeline layout, the largest batch that fits at a
-- context and the longest context that fits at a batch (the KV cache in paged blocks), the
-- time to first token and per output token there, the throughput per GPU, and speculative
-- decoding's expected tokens a step. docs/serving.md says what each figure assumes.
local util = require "lmp.util"
local core = require "lmp.core"
local function core_is_error(e) return core.is_error(e) end

local serving = {}

-- the KV cache is allocated in blocks of this many tokens a sequence (vLLM's default)
serving.BLOCK_TOKENS = 16

local function blocks(tokens, block) return (tokens + block - 1) // block * block end

-- need(ctx, batch, context) -> the bytes a rank of the largest stage holds serving `batch`
-- sequences of `context` tokens: weights, the KV cache of every sequence at its paged length,
-- and the larger working set of a decode step's layers over the batch (outside the cache it
-- reads: a step's own activations, as with no tokens cached) and of one prompt's prefill
local function need(ctx, batch, context)
  local padded = blocks(context, ctx.block)
  local decode = ctx.parallel({ batch_size = batch, seq_len = 1, kv_len = padded - 1, phase = "decode" })
  local step = ctx.parallel({ batch_size = batch, seq_len = 1, kv_len = 0, phase = "decode" })
  local prefill = ctx.parallel({ batch_size = 1, seq_len = context, phase = "prefill" })
  local worst = 0
  for s, e in ipairs(decode.stages) do
    local working = math.max(step.stages[s].peak_activation, prefill.stages[s].peak_activation)
    worst = math.max(worst, e.weights + e.kv_cache + working)
  end
  return worst
end

-- largest(lo, hi, fits) -> the largest n in [lo, hi] with fits(n) (fits is monotone), or nil
local function largest(lo, hi, fits)
  if not fits(lo) then return nil end
  while hi > lo and not fits(hi) do
    local mid = lo + (hi - lo + 1) // 2
    if fits(mid) then lo = mid else hi = mid - 1 end
  end
  return hi
end

-- plan(ctx, opts) -> { usable_bytes, max_batch (at opts.context), max_context (at
-- opts.batch), ttft_s, tpot_s, tokens_per_s, tokens_per_s_per_gpu }
-- ctx: { parallel = function(inputs) -> lmp.parallel's answer, hw, gpus, block [, max_positions] }
function serving.plan(ctx, opts)
  local hw = ctx.hw
  local usable = math.floor(hw.memory_GiB * 2 ^ 30 * (1 - require("lmp.roofline").RESERVE_FRACTION))
  local out = { usable_bytes = usable, block_tokens = ctx.block, context = opts.context, batch = opts.batch }
  -- the search's upper ends: what the memory left after the weights holds at the KV cache's
  -- bytes a token (one block's, of one sequence), or the model's positions without a cache
  local one = ctx.parallel({ batch_size = 1, seq_len = 1, kv_len = ctx.block - 1, phase = "decode" })
  local weights, per_token = 0, 0
  for _, e in ipairs(one.stages) do
    weights = math.max(weights, e.weights)
    per_token = math.max(per_token, e.kv_cache / ctx.block)
  end
  local room = math.max(usable - weights, 0)
  local positions = ctx.max_positions or (1 << 20)
  if opts.context then
    local hi = per_token > 0 and math.max(1, math.floor(room / (per_token * blocks(opts.context, ctx.block)))) or 65536
    out.max_batch = largest(1, math.min(hi, 1 << 20), function (b) return need(ctx, b, opts.context) <= usable end)
  end
  if opts.batch then
    local hi = per_token > 0 and math.max(1, math.floor(room / (per_token * opts.batch))) or positions
    out.max_context = largest(1, math.min(hi, positions), function (c) return need(ctx, opts.batch, c) <= usable end)
  end
  -- the times at the batch served: the largest that fits, or the one given
  local batch = opts.batch or out.max_batch
  local context = opts.context or out.max_context
  if batch and context then
    local prompt = opts.prompt or context
    local pre = ctx.parallel({ batch_size = 1, seq_len = prompt, phase = "prefill" }, true)
    local dec = ctx.parallel({ batch_size = batch, seq_len = 1, kv_len = blocks(context, ctx.block) - 1, phase = "decode" }, true)
    out.served_batch, out.served_context = batch, context
    out.ttft_s = pre.timing.step_s
    out.tpot_s = dec.timing.step_s
    out.tokens_per_s = batch / out.tpot_s
    out.tokens_per_s_per_gpu = out.tokens_per_s / ctx.gpus
  end
  return out
end

-- speculative(target_step_s, draft_step_s, k, acceptance) -> expected tokens a target step
-- and the time a token: k draft decode steps, then one target step verifying k + 1
-- positions; with each drafted token accepted with probability a (independently), a step
-- yields (1 - a^(k+1)) / (1 - a) tokens (Leviathan et al. 2023)
function serving.speculative(verify_s, draft_step_s, k, a)
  if math.type(k) ~= "integer" or k < 1 then util.fail("speculative decoding: --draft-tokens must be an integer >= 1") end
  if type(a) ~= "number" or a < 0 or a > 1 then util.fail("speculative decoding: --acceptance must be in [0, 1]") end
  local tokens = a == 1 and (k + 1) or (1 - a ^ (k + 1)) / (1 - a)
  local step = k * draft_step_s + verify_s
  return { tokens_per_step = tokens, step_s = step, s_per_token = step / tokens }
end

-- ---- lmp plan: the cheapest configuration that meets the targets ----

-- the largest batch in [1, hi] whose decode step meets max_tpot (a step's time grows with
-- the batch)
local function batch_for_tpot(ctx, hi, context, max_tpot)
  local kv = blocks(context, ctx.block) - 1
  local function tpot(b)
    return ctx.parallel({ batch_size = b, seq_len = 1, kv_len = kv, phase = "decode" }, true).timing.step_s
  end
  if not max_tpot then return hi, tpot(hi) end
  local b = largest(1, hi, function (x) return tpot(x) <= max_tpot end)
  return b, b and tpot(b)
end

-- search(candidates, targets) -> { ok = { ... sorted best first }, failed = { reason -> count } }
-- candidates: { { name, hw, tp, pp, gpus, w_bits, price, ctx }, ... } (ctx as plan's);
-- targets: { context, prompt, max_ttft, max_tpot, min_throughput }. Each candidate: the
-- largest batch that fits at the context, the time to first token, the largest batch whose
-- TPOT meets the target, the throughput; ranked by the cost of a million tokens (with a
-- price), else by GPUs and then throughput per GPU
function serving.search(candidates, targets)
  local ok, failed, evaluated = {}, {}, 0
  local function fail(reason) failed[reason] = (failed[reason] or 0) + 1 end
  for _, c in ipairs(candidates) do
    evaluated = evaluated + 1
    local okc, err = pcall(function ()
      local plan = serving.plan(c.ctx, { context = targets.context })
      if not plan.max_batch then return fail("does not fit") end
      local ttft = c.ctx.parallel({ batch_size = 1, seq_len = targets.prompt or targets.context, phase = "prefill" }, true)
        .timing.step_s
      if targets.max_ttft and ttft > targets.max_ttft then return fail("time to first token over --max-ttft") end
      local b, tpot = batch_for_tpot(c.ctx, plan.max_batch, targets.context, targets.max_tpot)
      if not b then return fail("time per output token over --max-tpot at batch 1") end
      local throughput = b / tpot
      if targets.min_throughput and throughput < targets.min_throughput then
        return fail("throughput under --min-throughput")
      end
      local r = { name = c.name, hardware = c.hw.name, tp = c.tp, pp = c.pp, gpus = c.gpus, w_bits = c.w_bits, batch = b,
                  max_batch = plan.max_batch, ttft_s = ttft, tpot_s = tpot, tokens_per_s = throughput,
                  tokens_per_s_per_gpu = throughput / c.gpus, price_per_hour = c.price and c.price * c.gpus or nil }
      if c.price then r.usd_per_million_tokens = c.price * c.gpus / (throughput * 3600) * 1e6 end
      ok[#ok + 1] = r
    end)
    if not okc then
      if not core_is_error(err) then error(err, 0) end
      fail("the layout does not split the model")
    end
  end
  table.sort(ok, function (a, b)
    if a.usd_per_million_tokens and b.usd_per_million_tokens and a.usd_per_million_tokens ~= b.usd_per_million_tokens then
      return a.usd_per_million_tokens < b.usd_per_million_tokens
    end
    if (a.usd_per_million_tokens ~= nil) ~= (b.usd_per_million_tokens ~= nil) then return a.usd_per_million_tokens ~= nil end
    if a.gpus ~= b.gpus then return a.gpus < b.gpus end
    if a.tokens_per_s_per_gpu ~= b.tokens_per_s_per_gpu then return a.tokens_per_s_per_gpu > b.tokens_per_s_per_gpu end
    return a.name < b.name
  end)
  return { ok = ok, failed = failed, evaluated = evaluated }
end

return serving
