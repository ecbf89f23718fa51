-- Beyond one forward pass: the memory footprint of a result, and `generate`, a prefill
-- followed by decode steps, summed in closed form.
local core = require "lmp.core"

local phases = {}

local function fail(msg) core.error(core.EXIT.USAGE, msg) end

-- exact integer arithmetic past 2^63 through the formula engine (128-bit rationals)
local function exact(formula, vars) return core.eval(formula, vars) end

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
  local vars = {
    params = t.params, bits = i.w_bits, state = t.state_bytes, peak = t.peak_activation_bytes,
    act = t.reads_bytes, weight_reads = t.weight_bytes, inter = t.intermediates_bytes,
  }
  for _, v in pairs(vars) do
    if math.type(v) ~= "integer" then return nil end -- beyond 2^63: no footprint
  end
  local f = {
    weights = exact("ceil(${params} * ${bits} / 8)", vars),
    kv_cache = t.state_bytes,
    peak_activation = t.peak_activation_bytes,
  }
  if i.phase == "train" then
    f.gradients = f.weights
    f.optimizer = exact("${params} * (${bits} < 32 ? 12 : 8)", vars)
    f.saved_activations = exact("${act} - ${weight_reads} + ${inter}", vars)
    f.total = exact("ceil(${params} * ${bits} / 8) * 2 + ${params} * (${bits} < 32 ? 12 : 8) + ${act} - ${weight_reads} + ${inter} + ${state}", vars)
  else
    f.total = exact("ceil(${params} * ${bits} / 8) + ${state} + ${peak}", vars)
  end
  return f
end

-- Figures summed over the steps of a generation, and those that are not.
phases.SUMMED = { "flops", "matmul_flops", "reads_bytes", "writes_bytes", "intermediates_bytes", "weight_bytes" }

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
      for _, k in ipairs(phases.SUMMED) do acc[k] = exact("${a} + ${b}", { a = acc[k] or 0, b = t[k] }) end
    end
    return acc
  end
  local f0, f1, f2 = step(first), step(first + 1), step(first + 2)
  local mid, far = step(first + n // 2), step(last)
  local acc, ok = {}, true
  for _, k in ipairs(phases.SUMMED) do
    local v = { f0 = f0[k], f1 = f1[k], f2 = f2[k], n = n }
    local d1 = exact("${f1} - ${f0}", v)
    local d2 = exact("${f2} - 2 * ${f1} + ${f0}", v)
    v.d1, v.d2 = d1, d2
    local function predicted(j) v.j = j; return exact("${f0} + ${j} * ${d1} + ${j} * (${j} - 1) / 2 * ${d2}", v) end
    if predicted(n // 2) ~= mid[k] or predicted(n - 1) ~= far[k] then ok = false break end
    acc[k] = exact("${n} * ${f0} + ${n} * (${n} - 1) / 2 * ${d1} + ${n} * (${n} - 1) * (${n} - 2) / 6 * ${d2}", v)
  end
  if ok then return acc end
  local half = first + n // 2
  local a, b = sum_decode(step, first, half - 1, depth + 1), sum_decode(step, half, last, depth + 1)
  for _, k in ipairs(phases.SUMMED) do a[k] = exact("${a} + ${b}", { a = a[k], b = b[k] }) end
  return a
end

-- The decode steps generate analyses, at most: closed-form sums need a handful for bundled
-- models, but a calculator whose figures are not piecewise polynomials of degree <= 2 in the
-- cache length needs one per new token (10^5 tokens took 11.7 s and 742 MB; 10^4 analyses
-- of a small model take about a second). LMP_MAX_STEP_ANALYSES raises it.
phases.MAX_STEP_ANALYSES = 10000
function phases.max_step_analyses()
  local v = os.getenv("LMP_MAX_STEP_ANALYSES")
  if v == nil or v == "" then return phases.MAX_STEP_ANALYSES end
  local n = math.tointeger(tonumber(v))
  if not n or n < 5 then fail(("LMP_MAX_STEP_ANALYSES must be an integer >= 5, got '%s'"):format(v)) end
  return n
end

-- generate(model, inputs): a prefill of prompt_len tokens, which yields the first new token,
-- then new_tokens - 1 decode steps of one token each over prompt_len, prompt_len + 1, ...
-- cached tokens (what Hugging Face generate(max_new_tokens = G) runs).
function phases.generate(model, inputs, opts)
  local lmp = require "lmp"
  inputs = inputs or {}
  local P, G = inputs.prompt_len, inputs.new_tokens
  if math.type(P) ~= "integer" or P < 1 then fail("generate: prompt_len must be an integer >= 1") end
  if math.type(G) ~= "integer" or G < 1 then fail("generate: new_tokens must be an integer >= 1") end
  local base = {}
  for k, v in pairs(inputs) do
    if k ~= "prompt_len" and k ~= "new_tokens" and k ~= "seq_len" and k ~= "kv_len" and k ~= "phase" then base[k] = v end
  end
  local function run(seq, kv, run_opts)
    local i = { seq_len = seq, kv_len = kv, phase = kv == 0 and "prefill" or "decode", enc_len = inputs.enc_len or P }
    for k, v in pairs(base) do i[k] = v end
    return lmp.analyze(model, i, run_opts)
  end
  local prefill = run(P, 0, opts)
  local result = { model_id = prefill.model_id, tree = prefill.tree, unknown_modules = prefill.unknown_modules,
                   complete = prefill.complete, evaluations = prefill.evaluations }
  result.inputs = { phase = "generate", prompt_len = P, new_tokens = G, batch_size = prefill.inputs.batch_size,
                    seq_len = P, kv_len = 0, enc_len = prefill.inputs.enc_len,
                    w_bits = prefill.inputs.w_bits, a_bits = prefill.inputs.a_bits, kv_bits = prefill.inputs.kv_bits }
  local totals = {}
  for k, v in pairs(prefill.totals) do totals[k] = v end
  result.steps = { prefill = prefill.totals }
  if G > 1 then
    local cache, n_cached, max = {}, 0, phases.max_step_analyses()
    local function step(kv)
      if not cache[kv] then
        n_cached = n_cached + 1
        if n_cached > max then
          fail(("generate: the decode steps' figures are not polynomials of degree <= 2 in the cache length " ..
            "(a calculator's), so the %d steps would be analysed one by one; %d analyses is the limit " ..
            "(LMP_MAX_STEP_ANALYSES raises it, fewer --new-tokens need fewer)"):format(G - 1, max))
        end
        local t, kept = run(1, kv, { depth = 0 }).totals, {} -- only what the sums read: a few integers a step
        for _, k in ipairs(phases.SUMMED) do kept[k] = t[k] end
        kept.state_bytes, kept.peak_activation_bytes = t.state_bytes, t.peak_activation_bytes
        cache[kv] = kept
      end
      return cache[kv]
    end
    local decode = sum_decode(step, P, P + G - 2, 0)
    for _, k in ipairs(phases.SUMMED) do totals[k] = exact("${a} + ${b}", { a = totals[k], b = decode[k] }) end
    local last = step(P + G - 2)
    totals.state_bytes = last.state_bytes -- the cache after the last step
    if (tonumber(last.peak_activation_bytes) or 0) > (tonumber(totals.peak_activation_bytes) or 0) then
      totals.peak_activation_bytes = last.peak_activation_bytes
    end
    result.steps.decode = decode
    result.decode_analyses = n_cached
  end
  result.totals = totals
  result.footprint = phases.footprint({ totals = totals, inputs = { phase = "generate", w_bits = result.inputs.w_bits } })
  return result
end

return phases
