-- Beyond one forward pass: the memory footprint of a result, and `generate`, a prefill
-- followed by decode steps, summed in closed form.
local core = require "lmp.core"
local util = require "lmp.util"

local exact = core.exact
local phases = {}

-- footprint(result) -> bytes held, by kind:
--   weights          every parameter at w_bits (tied weights once)
--   kv_cache         the state the layers hold after the step (K and V of every token in
--                    the context, at kv_bits)
--   peak_activation  the largest working set of one basic layer: its activation inputs,
--                    outputs and intermediates (the residual stream held beside it is not
--                    added)
--   total            their sum
-- In training also (mixed-precision Adam): gradients at w_bits; optimizer: first and second
-- moments in fp32 (8 bytes a parameter) plus an fp32 master copy when w_bits < 32 (4 more);
-- saved_activations: what the backward pass reads back, every layer's activation inputs and
-- intermediates; total adds them all.
function phases.footprint(result)
  local t, i = result.totals, result.inputs
  for _, v in ipairs({ t.params, i.w_bits, t.state_bytes, t.peak_activation_bytes, t.reads_bytes, t.weight_bytes,
                       t.intermediates_bytes }) do
    if math.type(v) ~= "integer" then return nil end -- beyond 2^63: no footprint
  end
  local f = {
    weights = exact.ceil_div(exact.mul(t.params, i.w_bits), 8),
    kv_cache = t.state_bytes,
    peak_activation = t.peak_activation_bytes,
  }
  if i.phase == "train" then
    f.gradients = f.weights
    f.optimizer = exact.mul(t.params, i.w_bits < 32 and 12 or 8)
    f.saved_activations = exact.add(exact.sub(t.reads_bytes, t.weight_bytes), t.intermediates_bytes)
    f.total = exact.add(f.weights, f.gradients, f.optimizer, f.saved_activations, t.state_bytes)
  else
    f.total = exact.add(f.weights, t.state_bytes, t.peak_activation_bytes)
  end
  return f
end

-- How the steps of a generation combine each figure (core.FIGURES' steps column): summed,
-- the last step's, the largest; the others are the prefill's. Training-only figures have
-- no steps.
phases.SUMMED, phases.LAST, phases.MAX = {}, {}, {}
for _, f in ipairs(core.FIGURES) do
  local list = not f.train_only and ({ sum = phases.SUMMED, last = phases.LAST, max = phases.MAX })[f.steps]
  if list then list[#list + 1] = f.name end
end

-- sum over kv in [first, last] of the decode-step totals. Each figure of a one-token decode
-- step is a polynomial of degree <= 2 in the cache length for every bundled calculator
-- (attention is linear in it), so three steps fix it and Newton's forward differences sum
-- it exactly: n*f0 + C(n,2)*d1 + C(n,3)*d2. The fit is checked at the far end and the
-- middle of the range; where a figure is only piecewise polynomial (a sliding window, byte
-- rounding at odd sizes) the range is split and each half summed the same way.
local function sum_decode(step, first, last, depth)
  local n = last - first + 1
  if n <= 6 or depth > 40 then
    local acc = {}
    for kv = first, last do
      local t = step(kv)
      for _, k in ipairs(phases.SUMMED) do acc[k] = exact.add(acc[k] or 0, t[k]) end
    end
    return acc
  end
  local f0, f1, f2 = step(first), step(first + 1), step(first + 2)
  local mid, far = step(first + n // 2), step(last)
  local acc, ok = {}, true
  -- C(j, 1) = j, C(j, 2) = j (j - 1) / 2, C(j, 3) = j (j - 1) (j - 2) / 6, exact past 64 bits
  local function c2(j) return exact.div(exact.mul(j, j - 1), 2) end
  local function c3(j) return exact.div(exact.mul(j, j - 1, j - 2), 6) end
  for _, k in ipairs(phases.SUMMED) do
    local d1 = exact.sub(f1[k], f0[k])
    local d2 = exact.add(exact.sub(f2[k], exact.mul(2, f1[k])), f0[k])
    local function predicted(j) return exact.add(f0[k], exact.mul(j, d1), exact.mul(c2(j), d2)) end
    if exact.cmp(predicted(n // 2), mid[k]) ~= 0 or exact.cmp(predicted(n - 1), far[k]) ~= 0 then ok = false break end
    acc[k] = exact.add(exact.mul(n, f0[k]), exact.mul(c2(n), d1), exact.mul(c3(n), d2))
  end
  if ok then return acc end
  local half = first + n // 2
  local a, b = sum_decode(step, first, half - 1, depth + 1), sum_decode(step, half, last, depth + 1)
  for _, k in ipairs(phases.SUMMED) do a[k] = exact.add(a[k], b[k]) end
  return a
end

-- The decode steps generate analyses, at most: closed-form sums need a handful for bundled
-- models, but a calculator whose figures are not piecewise polynomials of degree <= 2 in the
-- cache length needs one per new token (10^5 tokens took 11.7 s and 742 MB; 10^4 analyses
-- of a small model take about a second). LMP_MAX_STEP_ANALYSES raises it.
phases.MAX_STEP_ANALYSES = 10000
function phases.max_step_analyses()
  local v = util.env("LMP_MAX_STEP_ANALYSES")
  if v == nil then return phases.MAX_STEP_ANALYSES end
  local n = math.tointeger(tonumber(v))
  if not n or n < 5 then util.fail(("LMP_MAX_STEP_ANALYSES must be an integer >= 5, got '%s'"):format(v)) end
  return n
end

-- generate(analyze, model, inputs, opts): a prefill of prompt_len tokens, which yields the
-- first new token, then new_tokens - 1 decode steps of one token each over prompt_len,
-- prompt_len + 1, ... cached tokens (what Hugging Face generate(max_new_tokens = G) runs).
-- generate passes logits_to_keep=1 to the forward (GenerationMixin._supports_logits_to_keep,
-- transformers 4.45 on): the prefill projects only its last position through lm_head, so
-- its logits_len is 1 (inputs.logits_len, at most prompt_len, overrides it).
-- analyze(model, inputs, opts) -> result is lmp.analyze, which runs each step.
function phases.generate(analyze, model, inputs, opts)
  inputs = inputs or {}
  local P, G = inputs.prompt_len, inputs.new_tokens
  if math.type(P) ~= "integer" or P < 1 then util.fail("generate: prompt_len must be an integer >= 1") end
  if math.type(G) ~= "integer" or G < 1 then util.fail("generate: new_tokens must be an integer >= 1") end
  local base = {}
  for k, v in pairs(inputs) do
    if k ~= "prompt_len" and k ~= "new_tokens" and k ~= "seq_len" and k ~= "kv_len" and k ~= "phase" and k ~= "logits_len" then base[k] = v end
  end
  local function run(seq, kv, run_opts)
    local i = { seq_len = seq, kv_len = kv, phase = kv == 0 and "prefill" or "decode", enc_len = inputs.enc_len or P,
                logits_len = kv == 0 and inputs.logits_len or 1 }
    for k, v in pairs(base) do i[k] = v end
    return analyze(model, i, run_opts)
  end
  local prefill = run(P, 0, opts)
  local result = { model_id = prefill.model_id, tree = prefill.tree, unknown_modules = prefill.unknown_modules,
                   complete = prefill.complete, evaluations = prefill.evaluations }
  result.inputs = { phase = "generate", prompt_len = P, new_tokens = G } -- and the prefill's (seq_len P, kv_len 0)
  for _, row in ipairs(core.INPUTS) do result.inputs[row.name] = prefill.inputs[row.name] end
  local totals = {}
  for k, v in pairs(prefill.totals) do totals[k] = v end
  result.steps = { prefill = prefill.totals }
  if G > 1 then
    local cache, n_cached, max = {}, 0, phases.max_step_analyses()
    local function step(kv)
      if not cache[kv] then
        n_cached = n_cached + 1
        if n_cached > max then
          util.fail(("generate: the decode steps' figures are not polynomials of degree <= 2 in the cache length " ..
            "(a calculator's), so the %d steps would be analysed one by one; %d analyses is the limit " ..
            "(LMP_MAX_STEP_ANALYSES raises it, fewer --new-tokens need fewer)"):format(G - 1, max))
        end
        local t, kept = run(1, kv, { depth = 0 }).totals, {} -- only what the sums read: a few integers a step
        for _, list in ipairs({ phases.SUMMED, phases.LAST, phases.MAX }) do
          for _, k in ipairs(list) do kept[k] = t[k] end
        end
        cache[kv] = kept
      end
      return cache[kv]
    end
    local decode = sum_decode(step, P, P + G - 2, 0)
    for _, k in ipairs(phases.SUMMED) do totals[k] = exact.add(totals[k], decode[k]) end
    -- the last step holds the largest cache and working set: attention's grow with the cache
    local last = step(P + G - 2)
    for _, k in ipairs(phases.LAST) do totals[k] = last[k] end
    for _, k in ipairs(phases.MAX) do totals[k] = exact.max(totals[k], last[k]) end
    result.steps.decode = decode
    result.decode_analyses = n_cached
  end
  result.totals = totals
  result.footprint = phases.footprint({ totals = totals, inputs = { phase = "generate", w_bits = result.inputs.w_bits } })
  if prefill.timing then -- opts.hw: the time to first token, then each decode step's (lmp.timing)
    require("lmp.timing").generate(result, prefill, function (kv) return run(1, kv, { depth = 0, hw = opts.hw }) end,
      require("lmp.timing").hardware_list(opts), opts.gpus)
  end
  return result
end

return phases
