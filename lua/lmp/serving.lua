-- Serving plans: on a hardware and a tensor/pipeline layout, the largest batch that fits at a
-- context and the longest context that fits at a batch (the KV cache in paged blocks), the
-- time to first token and per output token there, the throughput per GPU, and speculative
-- decoding's expected tokens a step. docs/serving.md says what each figure assumes.
local util = require "lmp.util"

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

return serving
