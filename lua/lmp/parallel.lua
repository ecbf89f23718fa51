-- Parallel layouts (Megatron-LM's semantics): the model one rank holds under tensor (tp),
-- pipeline (pp) and data (dp) parallelism, as a model table the walk prices exactly, and
-- the collectives a step runs. docs/parallel.md says what each rule does and why.
--
-- Tensor parallelism splits, by the layer's role (its name, as the transformers families
-- call it): a column-parallel Linear's out_features (q/k/v, gate/up, fc1), a row-parallel
-- Linear's in_features (o, down, fc2), the vocabulary of the embeddings and lm_head, the
-- heads of attention, rotary embedding and the KV cache (KV heads split over tp, or one a
-- rank when tp exceeds them: replicated), and the elementwise ops between a column- and a
-- row-parallel layer (the MLP's activations). Norms and residual adds see the whole hidden
-- state on every rank. A Linear whose name has no role is replicated and listed.
-- Pipeline parallelism splits the decoder block (the composite with the largest repeat)
-- into pp stages of consecutive layers; what comes before it runs on the first stage, what
-- comes after on the last (rotary tables on every stage); a tied lm_head on a stage without
-- its embedding holds its own copy, as Megatron's.
local core = require "lmp.core"
local util = require "lmp.util"

local parallel = {}

local function set(list)
  local s = {}
  for _, v in ipairs(list) do s[v] = true end
  return s
end

-- roles by a layer's name
parallel.COLUMN = set { "q_proj", "k_proj", "v_proj", "qkv_proj", "query_key_value", "c_attn", "Wqkv", "query", "key",
  "value", "gate_proj", "up_proj", "gate_up_proj", "fc1", "c_fc", "w1", "w3", "dense_h_to_4h", "q_b_proj", "kv_b_proj" }
parallel.ROW = set { "o_proj", "out_proj", "c_proj", "down_proj", "fc2", "w2", "dense_4h_to_h", "dense" }
parallel.VOCAB = set { "embed_tokens", "wte", "word_embeddings", "embed_in", "lm_head", "embed_out" }

local function short(cls) return cls:match("[^.]+$") or cls end
local function is_linear(layer) return short(layer.class) == "Linear" or short(layer.class) == "Conv1D" end
local function is_rotary(layer) return short(layer.class):find("[Rr]otary") ~= nil end

local function deep_copy(v)
  if type(v) ~= "table" then return v end
  local out = {}
  for k, x in pairs(v) do out[k] = deep_copy(x) end
  return out
end

-- divide(value, k, where, what, pad) -> value / k: an integer must be a multiple of k (or,
-- with pad, is rounded up: the vocabulary padded to a multiple of tp); a ${...} template is
-- divided in the formula (the walk refuses it if the quotient is not whole)
local function divide(value, k, where, what, pad)
  if k == 1 then return value end
  if math.type(value) == "integer" then
    if value % k ~= 0 then
      if pad then return (value + k - 1) // k end
      util.fail(("%s: %s %d is not divisible by --tp %d"):format(where, what, value, k))
    end
    return value // k
  end
  if type(value) == "string" then return ("(%s) / %d"):format(value, k) end
  util.fail(("%s: %s must be a number or a ${...} formula to split over --tp %d"):format(where, what, k))
end

-- heads per rank: query heads split over tp; KV heads split, or replicated (one a rank) when
-- tp exceeds them, as Megatron's GQA
local function kv_heads(n, tp, where)
  if math.type(n) ~= "integer" then util.fail(where .. ": num_kv_heads must be a number to split over --tp") end
  if n >= tp then
    if n % tp ~= 0 then util.fail(("%s: %d KV heads are not divisible by --tp %d"):format(where, n, tp)) end
    return n // tp
  end
  if tp % n ~= 0 then util.fail(("%s: --tp %d is not a multiple of its %d KV heads"):format(where, tp, n)) end
  return 1
end

-- the TP split of one rank: the model table with every layer's share, and what the split saw;
-- with sp (sequence parallelism) the layers TP leaves whole (norms, residual adds, dropout)
-- run on seq / tp of the tokens
local function split_tp(layers, tp, out, path, sp)
  local sharded = false -- between a column- and a row-parallel layer: activations are split
  for _, layer in ipairs(layers) do
    local where = path .. layer.name
    local p = layer.parameters
    if layer.sub_layers then
      split_tp(layer.sub_layers, tp, out, where .. ".", sp)
    elseif p then
      local name = layer.name
      -- a Linear's in_features x out_features, a Conv1D's (GPT-2's) nx x nf
      local in_key, out_key = p.nx and "nx" or "in_features", p.nf and "nf" or "out_features"
      if is_linear(layer) and parallel.COLUMN[name] then
        p[out_key] = divide(p[out_key], tp, where, out_key)
        sharded = true
        out.column[#out.column + 1] = where
      elseif is_linear(layer) and parallel.ROW[name] then
        p[in_key] = divide(p[in_key], tp, where, in_key)
        sharded = false
        out.row[#out.row + 1] = where
      elseif parallel.VOCAB[name] and (is_linear(layer) or short(layer.class) == "Embedding") then
        if p.out_features then p.out_features = divide(p.out_features, tp, where, "out_features", true) end
        if p.num_embeddings then p.num_embeddings = divide(p.num_embeddings, tp, where, "num_embeddings", true) end
        out.vocab[#out.vocab + 1] = where
      elseif p.num_heads or p.num_kv_heads then -- attention, rotary, the KV cache
        if p.num_heads then p.num_heads = divide(p.num_heads, tp, where, "num_heads") end
        if p.num_kv_heads then p.num_kv_heads = kv_heads(p.num_kv_heads, tp, where) end
      elseif sharded and p.numel then -- the MLP's activation, gate * up
        p.numel = divide(p.numel, tp, where, "numel")
      elseif is_linear(layer) then
        out.replicated[#out.replicated + 1] = where
      elseif sp and not is_rotary(layer) and (p.numel or p.N) then -- a norm or residual add on seq / tp tokens
        if p.numel then p.numel = divide(p.numel, tp, where, "numel") end
        if p.N then p.N = divide(p.N, tp, where, "N") end
        if p.broadcast_numel and p.broadcast_numel ~= 0 then
          p.broadcast_numel = divide(p.broadcast_numel, tp, where, "broadcast_numel")
        end
        out.sequence[#out.sequence + 1] = where
      end
    end
  end
end

-- scale(layers, factor): every token count under an expert block times factor (EP with
-- fewer local experts than a token picks: each runs more tokens)
local function scale_tokens(layers, factor, where)
  for _, l in ipairs(layers) do
    if l.sub_layers then scale_tokens(l.sub_layers, factor, where) end
    for _, k in ipairs({ "N", "numel", "batch_size" }) do
      local v = l.parameters and l.parameters[k]
      if math.type(v) == "integer" then l.parameters[k] = v * factor
      elseif type(v) == "string" then l.parameters[k] = ("(%s) * %d"):format(v, factor) end
    end
  end
end

-- the EP split of one rank: each expert block (a layer with `active`: a composite of one
-- expert's layers, or a fused experts layer, gpt-oss's and Llama 4's) keeps repeat / ep of
-- its experts; with routing balanced, its tokens' picks spread evenly over the ranks, so a
-- rank's experts run as many expert-token pairs as one rank ran without EP
local function split_ep(layers, ep, out, path)
  for _, layer in ipairs(layers) do
    local where = path .. layer.name
    if layer.active ~= nil then
      local E, k = layer["repeat"] or 1, layer.active
      if math.type(k) ~= "integer" then util.fail(where .. ": --ep needs a number of active experts, not a formula") end
      if E % ep ~= 0 then util.fail(("%s: %d experts are not divisible by --ep %d"):format(where, E, ep)) end
      local R = E // ep
      if k <= R then
        layer.active = k
      else
        if k % R ~= 0 then util.fail(("%s: %d active experts do not spread over %d a rank"):format(where, k, R)) end
        layer.active = R
        scale_tokens(layer.sub_layers or { layer }, k // R, where)
      end
      layer["repeat"] = R > 1 and R or nil
      if R == 1 then layer.active = nil end
      out.experts[#out.experts + 1] = { path = where, active = k }
    elseif layer.sub_layers then
      split_ep(layer.sub_layers, ep, out, where .. ".")
    end
  end
end

-- the CP split of one rank: every layer runs seq / cp of the tokens (the rank's inputs say
-- so), but attention's keys span the whole sequence: a rank's queries attend to every key,
-- K and V gathered from the other ranks (ring attention)
local function split_cp(layers, cp, out, path)
  for _, layer in ipairs(layers) do
    local where = path .. layer.name
    if layer.sub_layers then
      split_cp(layer.sub_layers, cp, out, where .. ".")
    elseif layer.class == "torch.nn.functional.scaled_dot_product_attention" and layer.parameters then
      local k = layer.parameters.key_len
      if type(k) ~= "string" or not k:find("${seq_len}", 1, true) then
        util.fail(where .. ": --cp needs key_len as a formula of ${seq_len}")
      end
      layer.parameters.key_len = k:gsub("%${seq_len}", ("(${seq_len} * %d)"):format(cp))
      out.attention[#out.attention + 1] = where
    end
  end
end

-- the decoder block: the composite with the largest repeat (> 1), depth first
local function find_block(layers, best, parent)
  for i, layer in ipairs(layers) do
    if layer.sub_layers then
      local r = layer["repeat"] or 1
      if r > 1 and (not best.layer or r > (best.layer["repeat"] or 1)) then
        best.layer, best.parent, best.index = layer, parent, i
      end
      find_block(layer.sub_layers, best, layer)
    end
  end
  return best
end

-- stage_counts(L, pp) -> the decoder layers of each stage: as even as they go, the first
-- stages one more when pp does not divide L
function parallel.stage_counts(L, pp)
  if pp > L then util.fail(("--pp %d exceeds the model's %d decoder layers"):format(pp, L)) end
  local counts = {}
  for s = 1, pp do counts[s] = L // pp + ((s <= L % pp) and 1 or 0) end
  return counts
end

local function contains(layers, block)
  for _, l in ipairs(layers) do
    if l == block or (l.sub_layers and contains(l.sub_layers, block)) then return true end
  end
  return false
end

-- prune_stage(layers, block, first, last, state) -> what a stage runs: the block (its repeat
-- set by the caller) and what holds it, what comes before it on the first stage, after it
-- on the last, rotary tables on every stage
local function prune_stage(layers, block, first, last, state)
  local out = {}
  for _, layer in ipairs(layers) do
    if layer == block then
      state.seen = true
      out[#out + 1] = layer
    elseif layer.sub_layers and contains(layer.sub_layers, block) then
      layer.sub_layers = prune_stage(layer.sub_layers, block, first, last, state)
      out[#out + 1] = layer
    elseif is_rotary(layer) or (not state.seen and first) or (state.seen and last) then
      out[#out + 1] = layer
    end
  end
  return out
end

-- untie a tied layer whose owner is not in the model any more (a stage): it holds a copy
local function untie_missing(model)
  local paths = {}
  local function index(layers, prefix)
    for _, l in ipairs(layers) do
      paths[prefix .. l.name] = true
      if l.sub_layers then index(l.sub_layers, prefix .. l.name .. ".") end
    end
  end
  index(model.layers, "")
  local untied = {}
  local function walk(layers, prefix)
    for _, l in ipairs(layers) do
      if l.weights_tied_to and not paths[l.weights_tied_to] then
        untied[#untied + 1] = prefix .. l.name
        l.weights_tied_to = nil
      end
      if l.sub_layers then walk(l.sub_layers, prefix .. l.name .. ".") end
    end
  end
  walk(model.layers, "")
  return untied
end

-- rank_models(model_table, layout) -> { { stage = s, layers = n, model = table, split = {...} }, ... }:
-- one model table per pipeline stage, each as one of its tp ranks holds it
function parallel.rank_models(model, layout)
  local tp, pp = layout.tp or 1, layout.pp or 1
  local stages = {}
  local block = pp > 1 and find_block(model.layers, {}) or nil
  if pp > 1 and not block.layer then util.fail("--pp: the model has no repeated decoder block to split into stages") end
  local counts = pp > 1 and parallel.stage_counts(block.layer["repeat"], pp) or { 1 }
  for s = 1, pp do
    local m = deep_copy(model)
    m.config = nil -- the walk does not read it; a copy per stage need not carry it
    if pp > 1 then
      local b = find_block(m.layers, {}).layer
      b["repeat"] = counts[s] > 1 and counts[s] or nil
      m.layers = prune_stage(m.layers, b, s == 1, s == pp, {})
    end
    local split = { column = {}, row = {}, vocab = {}, replicated = {}, experts = {}, sequence = {} }
    split_tp(m.layers, tp, split, "", layout.sp and tp > 1)
    if (layout.ep or 1) > 1 then split_ep(m.layers, layout.ep, split, "") end
    split.attention = {}
    if (layout.cp or 1) > 1 then split_cp(m.layers, layout.cp, split, "") end
    split.untied = untie_missing(m)
    m.model_id = ("%s [tp %d/%d, pp stage %d/%d]"):format(model.model_id or "model", 1, tp, s, pp)
    stages[s] = { stage = s, layers = pp > 1 and counts[s] or nil, model = m, split = split }
  end
  return stages
end

-- ---- collectives: the alpha-beta model on a ring ----

-- collective_time(kind, bytes, n, bw, alpha) -> seconds of one collective over n ranks moving
-- `bytes` per rank's buffer on a ring of links of bw bytes/s with a latency alpha each step:
-- all-reduce 2(n-1)/n of the buffer in 2(n-1) steps; all-gather and reduce-scatter (n-1)/n in
-- n-1; point-to-point the buffer once
function parallel.collective_time(kind, bytes, n, bw, alpha)
  if n <= 1 or bytes == 0 then return 0 end
  if kind == "all_reduce" then return 2 * (n - 1) / n * bytes / bw + 2 * (n - 1) * alpha end
  if kind == "all_gather" or kind == "reduce_scatter" or kind == "all_to_all" then
    return (n - 1) / n * bytes / bw + (n - 1) * alpha
  end
  if kind == "p2p" then return bytes / bw + alpha end
  error("collective_time: unknown collective " .. tostring(kind))
end

-- a collective's bytes on the wire per rank: what collective_time divides by the bandwidth
function parallel.wire_bytes(kind, bytes, n)
  if n <= 1 then return 0 end
  if kind == "all_reduce" then return 2 * (n - 1) * bytes // n end
  if kind == "all_gather" or kind == "reduce_scatter" or kind == "all_to_all" then return (n - 1) * bytes // n end
  return bytes
end

-- link(hw, n, gpus_per_node) -> bytes/s and latency of a group of n ranks: NVLink (half the
-- datasheet's both-directions figure) within a node, the network across nodes
parallel.ALPHA_INTRA, parallel.ALPHA_INTER = 5e-6, 10e-6 -- NCCL's per-step latencies, roughly
function parallel.link(hw, n, gpus_per_node)
  if n <= (gpus_per_node or 8) and hw.gpu_link_GBps then
    return hw.gpu_link_GBps * 1e9 / 2, parallel.ALPHA_INTRA, "gpu link"
  end
  if hw.network_GBps then return hw.network_GBps * 1e9, parallel.ALPHA_INTER, "network" end
  if hw.gpu_link_GBps then return hw.gpu_link_GBps * 1e9 / 2, parallel.ALPHA_INTRA, "gpu link" end
  if hw.host_link_GBps then return hw.host_link_GBps * 1e9, parallel.ALPHA_INTER, "host link" end
  util.fail(("hardware %s has no link bandwidth (gpu_link_GBps, network_GBps, host_link_GBps) to price collectives")
    :format(hw.name))
end

-- ---- activation recomputation ----

-- the block (the repeated decoder layer) in a stage's result, and its layer count
local function block_node(result)
  local best
  local function walk(nodes)
    for _, n in ipairs(nodes or {}) do
      if n.children and n["repeat"] > 1 and (not best or n["repeat"] > best["repeat"]) then best = n end
      walk(n.children)
    end
  end
  walk(result.tree)
  return best
end

-- the basic layers under a node, each with its figures over all instances
local function basics_under(result, node)
  local results = require "lmp.result"
  local tokens = core.exact.mul(result.inputs.batch_size, result.inputs.seq_len)
  local out = {}
  local function walk(nodes, above, inside)
    for _, n in ipairs(nodes or {}) do
      local _, cum, _, all = results.instance_figures(n, above, tokens)
      local here = inside or n == node
      if here and not n.children then out[#out + 1] = { node = n, all = all, launches = tonumber(cum.a) } end
      walk(n.children, cum, here)
    end
  end
  walk(result.tree, results.UNIT, false)
  return out
end

parallel.RECOMPUTE = { none = true, selective = true, full = true }

-- recompute(result, how, inputs, hidden, a_bytes) -> the activations one micro-batch saves, and the
-- forward work recomputed in the backward ({ flops, layers = the basic layers rerun }):
--   none       every basic layer's saved inputs and intermediates (the footprint's)
--   selective  attention's core recomputed (Korthikanti et al. 2022): its stored scores and
--              probabilities not kept (fused attention stores none: no change)
--   full       each decoder layer keeps only its input (tokens x hidden at a_bits) and is run
--              again in the backward, one layer's activations live at a time
function parallel.recompute(result, how, inputs, hidden, a_bytes)
  local saved = result.footprint.saved_activations
  if how == nil or how == "none" then return saved, nil end
  local block = block_node(result)
  if not block then util.fail("--recompute: the model has no repeated decoder block") end
  local layers = basics_under(result, block)
  local rerun, dropped = {}, 0
  for _, b in ipairs(layers) do
    local sdpa = b.node.class == "torch.nn.functional.scaled_dot_product_attention"
    if how == "full" or sdpa then
      rerun[#rerun + 1] = b
      if how == "selective" then dropped = dropped + (tonumber(b.all.intermediates_bytes) or 0) end
    end
  end
  if how == "selective" then return saved - dropped, { layers = rerun } end
  local block_saved = 0
  for _, b in ipairs(layers) do
    block_saved = block_saved + (tonumber(b.all.reads_bytes) - tonumber(b.all.weight_bytes)) + tonumber(b.all.intermediates_bytes)
  end
  local n = block["repeat"]
  local tokens = inputs.batch_size * (inputs.seq_len or 2048)
  local inputs_kept = n * math.floor(tokens * hidden * a_bytes + 0.5)
  return saved - block_saved + inputs_kept + block_saved // n, { layers = rerun }
end

-- ---- one layout: per-rank memory, collectives, time ----

-- sum_at(result, wanted, field) -> the figure over all instances of the paths in `wanted`,
-- and how many instances those are (the row-parallel layers' outputs, one all-reduce each)
local function sum_at(result, wanted, field)
  local results = require "lmp.result"
  local tokens = core.exact.mul(result.inputs.batch_size, result.inputs.seq_len)
  local sum, count = 0, 0
  local function walk(nodes, above)
    for _, n in ipairs(nodes or {}) do
      local _, cum, _, all = results.instance_figures(n, above, tokens)
      if wanted[n.path] then
        local v = field == "activation_reads" and (tonumber(all.reads_bytes) - tonumber(all.weight_bytes))
                  or tonumber(all[field]) or 0
        sum, count = sum + v, count + tonumber(cum.a)
      end
      walk(n.children, cum)
    end
  end
  walk(result.tree, results.UNIT)
  return sum, count
end

local function ceil_div(a, b) return (a + b - 1) // b end

-- the hidden size a stage sends the next: the config's, else the embedding's width
local function hidden_size(model)
  local c = model.config or {}
  local h = c.hidden_size or c.n_embd or c.d_model
  if math.type(h) == "integer" then return h end
  local function find(layers)
    for _, l in ipairs(layers) do
      if l.parameters and math.type(l.parameters.embedding_dim) == "integer" then return l.parameters.embedding_dim end
      if l.sub_layers then
        local x = find(l.sub_layers)
        if x then return x end
      end
    end
  end
  return find(model.layers) or util.fail("--pp: the model's hidden size is unknown (no config hidden_size, no Embedding)")
end

parallel.ZERO = { [0] = "none", "optimizer states", "and gradients", "and weights" }

-- check_layout(layout, phase) -> the layout with defaults: tp, pp, dp >= 1, zero 0..3,
-- micro_batch, global_batch a multiple of micro_batch x dp (the micro-batches a step runs)
function parallel.check_layout(layout, phase, batch)
  local l = {}
  for k, v in pairs(layout or {}) do l[k] = v end
  for _, k in ipairs({ "tp", "pp", "dp", "ep", "cp" }) do
    l[k] = l[k] or 1
    if math.type(l[k]) ~= "integer" or l[k] < 1 then util.fail(("--%s must be an integer >= 1"):format(k)) end
  end
  if l.dp % l.ep ~= 0 then util.fail(("--ep %d must divide --dp %d (expert ranks are data-parallel ranks)"):format(l.ep, l.dp)) end
  l.zero = l.zero or 0
  if math.type(l.zero) ~= "integer" or l.zero < 0 or l.zero > 3 then util.fail("--zero must be 0, 1, 2 or 3") end
  if l.zero > 0 and phase ~= "train" then util.fail("--zero shards training state: it goes with --phase train") end
  l.micro_batch = l.micro_batch or batch
  l.global_batch = l.global_batch or l.micro_batch * l.dp * (phase == "train" and l.pp or 1)
  if l.global_batch % (l.micro_batch * l.dp) ~= 0 then
    util.fail(("--global-batch %d is not a multiple of --micro-batch %d x --dp %d"):format(l.global_batch, l.micro_batch, l.dp))
  end
  l.micro_batches = l.global_batch // (l.micro_batch * l.dp)
  l.gpus = l.tp * l.pp * l.dp * l.cp
  l.recompute = l.recompute or "none"
  if not parallel.RECOMPUTE[l.recompute] then util.fail("--recompute must be none, selective or full") end
  if l.recompute ~= "none" and phase ~= "train" then util.fail("--recompute goes with --phase train") end
  l.gpus_per_node = l.gpus_per_node or 8
  return l
end

-- run(analyze, model_table, inputs, layout, opts) -> the layout's per-rank answer: one
-- entry per pipeline stage (its rank's memory and figures), the collectives of a step, and
-- with opts.hw the time of a step. analyze is lmp.analyze; inputs are one rank's batch.
function parallel.run(analyze, load, model, given, layout, opts)
  opts = opts or {}
  local phase = given.phase or "prefill"
  local l = parallel.check_layout(layout, phase, given.batch_size or 1)
  local train = phase == "train"
  local stages = parallel.rank_models(model, l)
  local inputs = {}
  for k, v in pairs(given) do inputs[k] = v end
  inputs.batch_size = l.micro_batch
  if l.cp > 1 then -- each context-parallel rank runs seq / cp of every sequence's tokens
    local seq = inputs.seq_len or 2048
    if seq % l.cp ~= 0 then util.fail(("--cp %d does not divide the sequence of %d tokens"):format(l.cp, seq)) end
    if (inputs.kv_len or 0) > 0 then util.fail("--cp splits a whole sequence: it goes with prefill or train, not a KV cache") end
    inputs.seq_len = seq // l.cp
  end
  local w_bits = inputs.w_bits or 16
  local a_bytes = (inputs.a_bits or 16) / 8
  local out = { layout = l, stages = {}, collectives = {} }
  local largest
  for s, st in ipairs(stages) do
    local r = analyze(load(st.model), inputs, { hw = opts.hw }) -- the whole tree: the collectives read it
    local P = r.totals.params
    local f = r.footprint
    local e = { stage = s, decoder_layers = st.layers, params = P, result = r, split = st.split }
    if train then
      -- 1F1B: stage s holds the activations of pp - s + 1 micro-batches at once (the first
      -- stage the most), at most the micro-batches a step runs
      e.in_flight = math.min(l.micro_batches, l.pp - s + 1)
      -- ZeRO shards over the ranks that hold the same weights: the data-parallel ones and the
      -- context-parallel ones (Megatron's distributed optimizer over dp x cp)
      local shards = l.dp * l.cp
      local weights = ceil_div(P * w_bits, 8)
      e.weights = l.zero >= 3 and ceil_div(weights, shards) or weights
      e.gradients = l.zero >= 2 and ceil_div(weights, shards) or weights
      e.optimizer = l.zero >= 1 and ceil_div(f.optimizer, shards) or f.optimizer
      local saved, extra = parallel.recompute(r, l.recompute, inputs, hidden_size(model), a_bytes)
      e.saved_per_micro_batch, e.recompute_forward = saved, extra
      e.activations = saved * e.in_flight
      e.total = e.weights + e.gradients + e.optimizer + e.activations
    else
      e.weights, e.kv_cache, e.peak_activation = f.weights, f.kv_cache, f.peak_activation
      e.total = f.total
    end
    out.stages[s] = e
    if not largest or e.total > out.stages[largest].total then largest = s end
  end
  out.largest_stage = largest
  -- the model's FLOPs a step (one unsplit copy at the micro-batch, times the micro-batches
  -- and the replicas): MFU's numerator, without the work TP replicates (norms, residuals)
  local whole_inputs = {}
  for k, v in pairs(inputs) do whole_inputs[k] = v end
  whole_inputs.seq_len = given.seq_len or inputs.seq_len -- the whole sequence, not a CP rank's share
  local whole = analyze(load(model), whole_inputs, { depth = 0 })
  out.model_flops = tonumber(whole.totals.flops) * l.micro_batches * l.dp
  out.tokens = l.global_batch * (given.seq_len or 2048)
  if l.tokens and train then
    -- a training budget: the steps it takes, lmp's FLOPs for it, and the 6ND rule beside them
    -- (6 x parameters x tokens: it leaves out attention's products over the context, which
    -- grow with the sequence, and counts the embedding's parameters as if multiplied)
    local P = tonumber(whole.totals.params)
    local steps = (l.tokens + out.tokens - 1) // out.tokens
    out.budget = { tokens = l.tokens, steps = steps, params = P, six_nd_flops = 6.0 * P * l.tokens, -- floats: past 2^63
                   lmp_flops = out.model_flops / out.tokens * l.tokens }
    out.budget.vs_six_nd = out.budget.lmp_flops / out.budget.six_nd_flops - 1
  end
  -- the collectives of one step, per rank of each stage: { kind, group, ranks, calls, bytes }
  local steps = train and 2 or 1 -- the forward's collectives, and in training the backward's mirror
  for s, e in ipairs(out.stages) do
    local c = {}
    local m = l.micro_batches
    if l.tp > 1 then
      -- forward: each row-parallel layer's output is all-reduced, and the vocab-parallel
      -- embedding's; backward: the input gradient of the column-parallel group before each
      -- row-parallel layer (as large as its output), and lm_head's
      local fwd, bwd, embed, head = {}, {}, {}, {}
      for _, p in ipairs(e.split.row) do fwd[p], bwd[p] = true, true end
      for _, p in ipairs(e.split.vocab) do
        if p:find("lm_head", 1, true) then head[p] = true else embed[p] = true end
      end
      local bytes, calls = sum_at(e.result, fwd, "writes_bytes")
      local eb, ec = sum_at(e.result, embed, "writes_bytes")
      bytes, calls = bytes + eb, calls + ec
      if train then
        local bb, bc = sum_at(e.result, bwd, "writes_bytes")
        local hb, hc = sum_at(e.result, head, "activation_reads")
        bytes, calls = bytes + bb + hb, calls + bc + hc
      end
      if l.sp then -- each all-reduce becomes a reduce-scatter and an all-gather of the same buffer
        c[#c + 1] = { kind = "reduce_scatter", group = "tp", ranks = l.tp, calls = calls * m, bytes = bytes * m }
        c[#c + 1] = { kind = "all_gather", group = "tp", ranks = l.tp, calls = calls * m, bytes = bytes * m }
      else
        c[#c + 1] = { kind = "all_reduce", group = "tp", ranks = l.tp, calls = calls * m, bytes = bytes * m }
      end
    end
    if l.pp > 1 then
      local tokens = l.micro_batch * (inputs.seq_len or 2048)
      local one = math.floor(tokens * hidden_size(model) * a_bytes + 0.5)
      local sends = (s < l.pp and 1 or 0) + (train and s > 1 and 1 or 0) -- activations on, gradients back
      c[#c + 1] = { kind = "p2p", group = "pp", ranks = 2, calls = sends * m, bytes = one * sends * m }
    end
    if l.ep > 1 and #e.split.experts > 0 then
      -- each MoE layer: tokens dispatched to their experts' ranks and the outputs combined
      -- back, an all-to-all each (a token's k picks, hidden wide); mirrored in the backward
      local count = 0
      local paths = {}
      for _, x in ipairs(e.split.experts) do paths[x.path] = x.active end
      local results = require "lmp.result"
      local tokens_ = core.exact.mul(e.result.inputs.batch_size, e.result.inputs.seq_len)
      local bytes = 0
      local function walk(nodes, above)
        for _, n in ipairs(nodes or {}) do
          local _, cum = results.instance_figures(n, above, tokens_)
          if paths[n.path] then
            local layers_here = tonumber(above.a)
            count = count + layers_here
            bytes = bytes + layers_here * math.floor(tonumber(tokens_) * paths[n.path] * hidden_size(model) * a_bytes + 0.5)
          end
          walk(n.children, cum)
        end
      end
      walk(e.result.tree, results.UNIT)
      c[#c + 1] = { kind = "all_to_all", group = "ep", ranks = l.ep, calls = 2 * count * steps * m, bytes = 2 * bytes * steps * m }
    end
    if l.cp > 1 and #e.split.attention > 0 then
      -- each attention layer gathers K and V of the whole sequence (the buffer a rank ends
      -- with) and, in the backward, reduce-scatters their gradients
      local wanted = {}
      for _, p in ipairs(e.split.attention) do wanted[p] = true end
      local results = require "lmp.result"
      local toks = core.exact.mul(e.result.inputs.batch_size, e.result.inputs.seq_len)
      local bytes, calls = 0, 0
      local function walk(nodes, above)
        for _, n in ipairs(nodes or {}) do
          local _, cum = results.instance_figures(n, above, toks)
          if wanted[n.path] then
            local p = n.parameters
            local d, dv = p.head_dim, (p.v_head_dim or 0) > 0 and p.v_head_dim or p.head_dim
            local one = math.floor(p.batch_size * p.num_kv_heads * p.key_len * (d + dv) * p.kv_bits / 8 + 0.5)
            bytes, calls = bytes + one * tonumber(cum.a), calls + tonumber(cum.a)
          end
          walk(n.children, cum)
        end
      end
      walk(e.result.tree, results.UNIT)
      c[#c + 1] = { kind = "all_gather", group = "cp", ranks = l.cp, calls = calls * m, bytes = bytes * m }
      if train then c[#c + 1] = { kind = "reduce_scatter", group = "cp", ranks = l.cp, calls = calls * m, bytes = bytes * m } end
    end
    if (l.dp * l.cp) > 1 and train then
      -- the gradients are summed over the data-parallel ranks and the context-parallel ones,
      -- which hold the same weights
      local n = l.dp * l.cp
      local grads = ceil_div(e.params * w_bits, 8)
      if l.zero <= 1 then
        c[#c + 1] = { kind = "all_reduce", group = "dp", ranks = n, calls = 1, bytes = grads }
      else
        c[#c + 1] = { kind = "reduce_scatter", group = "dp", ranks = n, calls = 1, bytes = grads }
        c[#c + 1] = { kind = "all_gather", group = "dp", ranks = n, calls = 1, bytes = grads } -- updated weights
      end
      if l.zero == 3 then -- the weights gathered again for the forward and for the backward
        c[#c + 1] = { kind = "all_gather", group = "dp", ranks = n, calls = 2, bytes = 2 * grads }
      end
    end
    for _, x in ipairs(c) do x.wire_bytes = parallel.wire_bytes(x.kind, x.bytes, x.ranks) end
    out.collectives[s] = c
  end
  if opts.hw then parallel.time(out, opts.hw[1], train) end
  return out
end

-- time(out, hw, train): the step's time on hw. A stage's micro-batch: its forward (and
-- backward) as lmp.roofline prices them, plus its tensor-parallel all-reduces (on the
-- critical path) and its point-to-point sends. 1F1B runs (m + pp - 1) slots of the slowest
-- stage's micro-batch (interleaved with v virtual stages: m + (pp - 1) / v); the data-parallel
-- gradient reduction overlaps the last micro-batch's backward and shows past it; the
-- optimizer step follows. Inference runs the stages one after another.
function parallel.time(out, hw, train)
  local l = out.layout
  local slot, exposed, optimizer, latency = 0, 0, 0, 0
  for s, e in ipairs(out.stages) do
    local t = e.result.timing[1]
    local compute = train and (t.forward_s + t.backward_s) or t.seconds
    if e.recompute_forward then -- the rerun layers' forward again, in the backward
      local roofline = require "lmp.roofline"
      local again = 0
      for _, b in ipairs(e.recompute_forward.layers) do
        local a = b.all
        local fwd = { flops = tonumber(a.flops) - tonumber(a.backward_flops or 0),
                      matmul_flops = tonumber(a.matmul_flops) - tonumber(a.backward_matmul_flops or 0),
                      reads_bytes = a.reads_bytes, writes_bytes = a.writes_bytes, intermediates_bytes = a.intermediates_bytes }
        local node = { class = b.node.class, parameters = b.node.parameters, matmul_flops = b.node.matmul_flops }
        again = again + roofline.layer_time(hw, node, fwd, b.launches).seconds
      end
      e.recompute_s = again
      compute = compute + again
    end
    local comm = { tp = 0, pp = 0, dp = 0 }
    for _, x in ipairs(out.collectives[s]) do
      -- a group's ranks span SPAN[group] consecutive GPUs (Megatron's order: tp innermost,
      -- then cp, then dp (whose ranks the ep groups are), pp outermost): within a node they
      -- use the GPU link, else the network
      local span = ({ tp = l.tp, cp = l.tp * l.cp, ep = l.tp * l.cp * l.ep, dp = l.tp * l.cp * l.dp,
                      pp = l.tp * l.cp * l.dp * l.pp })[x.group]
      local bw, alpha = parallel.link(hw, span, l.gpus_per_node)
      local per_call = x.calls > 0 and x.bytes / x.calls or 0
      x.seconds = x.calls * parallel.collective_time(x.kind, per_call, x.ranks, bw, alpha)
      comm[x.group] = (comm[x.group] or 0) + x.seconds
    end
    local m = l.micro_batches
    e.micro_batch_s = compute + (comm.tp + comm.pp + (comm.ep or 0) + (comm.cp or 0)) / m
    e.compute_s, e.tp_s, e.pp_s, e.dp_s = compute, comm.tp, comm.pp, comm.dp
    slot = math.max(slot, e.micro_batch_s)
    latency = latency + compute + comm.tp + comm.pp + (comm.ep or 0) + (comm.cp or 0)
    if train then
      exposed = math.max(exposed, comm.dp - t.backward_s)
      local opt_bytes = e.result.totals.optimizer_bytes
      if l.zero >= 1 then opt_bytes = opt_bytes / (l.dp * l.cp) end
      optimizer = math.max(optimizer, require("lmp.roofline").optimizer_time(hw, opt_bytes))
    end
  end
  local v = l.virtual_stages or 1
  local m = l.micro_batches
  local tm = { hardware = hw.name }
  if train then
    tm.pipeline_s = (m + (l.pp - 1) / v) * slot
    tm.bubble_s = (l.pp - 1) / v * slot
    tm.bubble_fraction = tm.bubble_s / tm.pipeline_s
    tm.dp_exposed_s = exposed
    tm.optimizer_s = optimizer
    tm.step_s = tm.pipeline_s + exposed + optimizer
  else
    tm.step_s = latency
  end
  tm.tokens_per_s = out.tokens / tm.step_s
  if out.budget then
    tm.budget_s = out.budget.steps * tm.step_s
    tm.gpu_hours = tm.budget_s * l.gpus / 3600
  end
  local peak = require("lmp.roofline").model_peak(hw, out.stages[1].result.inputs)
  tm.mfu = peak and out.model_flops / (tm.step_s * l.gpus * peak) or nil
  out.timing = tm
end

return parallel
