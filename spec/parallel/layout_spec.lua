-- Parallel layouts: what one rank holds and sends under TP, PP, DP and ZeRO, derived by hand
-- for a small Llama (spec/fixtures/parallel/tiny-llama.json: hidden 64, MLP 128, 4 heads of
-- 16 with 2 KV heads, 4 layers, vocab 256, untied) and for Llama-2-7B.
local lmp = require "lmp"
local h = require "spec.helpers"
local parallel = require "lmp.parallel"

local TINY = "spec/fixtures/parallel/tiny-llama.json"

-- parameters: embedding 256*64 = 16,384; a layer q 64*64 = 4,096, k and v 64*32 = 2,048 each,
-- o 4,096, gate, up, down 64*128 = 8,192 each, two norms 64 each: 36,992; final norm 64;
-- lm_head 16,384: 16,384 + 4*36,992 + 64 + 16,384 = 180,800
local FULL = 180800

local function run(given, layout, opts) return lmp.parallel(TINY, given, layout, opts) end

describe("a parallel layout", function ()
  it("splits the weights over TP and PP as Megatron does", function ()
    assert.are.equal(FULL, run({ seq_len = 16 }, {}).stages[1].params)
    -- TP 2: vocab 128 a rank (8,192 each for embedding and lm_head); a layer q 2,048, k, v
    -- 1,024 (one KV head each), o 2,048, gate, up, down 4,096, norms 128: 18,560
    local tp2 = run({ seq_len = 16 }, { tp = 2 })
    assert.are.equal(8192 + 4 * 18560 + 64 + 8192, tp2.stages[1].params) -- 90,688
    -- PP 2: two layers a stage; the first holds the embedding, the last the norm and lm_head
    local pp2 = run({ seq_len = 16 }, { pp = 2 })
    assert.are.equal(16384 + 2 * 36992, pp2.stages[1].params)       -- 90,368
    assert.are.equal(2 * 36992 + 64 + 16384, pp2.stages[2].params)  -- 90,432
    assert.are.equal(2, pp2.stages[1].decoder_layers)
    local both = run({ seq_len = 16 }, { tp = 2, pp = 2 })
    assert.are.equal(8192 + 2 * 18560, both.stages[1].params)
    assert.are.equal(2 * 18560 + 64 + 8192, both.stages[2].params)
    assert.are.equal(2, both.largest_stage)
  end)

  it("splits the KV cache over TP, one KV head a rank once TP exceeds them", function ()
    -- decode over 100 cached tokens: K and V of 101 tokens, 4 layers, 16 values a head, 2 bytes
    local kv_one_head = 2 * 4 * 101 * 16 * 2 -- 25,856
    local given = { seq_len = 1, kv_len = 100, phase = "decode" }
    assert.are.equal(2 * kv_one_head, run(given, {}).stages[1].kv_cache)
    assert.are.equal(kv_one_head, run(given, { tp = 2 }).stages[1].kv_cache)
    assert.are.equal(kv_one_head, run(given, { tp = 4 }).stages[1].kv_cache) -- replicated: 2 KV heads, 4 ranks
  end)

  it("shards training state over DP by ZeRO stage", function ()
    local given = { seq_len = 16, batch_size = 2, phase = "train" }
    local w = FULL * 2 -- bf16 weights and gradients: 361,600 bytes; Adam 12 bytes a parameter
    local want = {
      [0] = { w, w, FULL * 12 }, [1] = { w, w, FULL * 12 // 4 },
      [2] = { w, w // 4, FULL * 12 // 4 }, [3] = { w // 4, w // 4, FULL * 12 // 4 },
    }
    local single = lmp.analyze(lmp.load(TINY), given).footprint.saved_activations
    for zero = 0, 3 do
      local e = run(given, { dp = 4, zero = zero }).stages[1]
      assert.are.same(want[zero], { e.weights, e.gradients, e.optimizer }, "zero " .. zero)
      assert.are.equal(single, e.activations) -- one micro-batch in flight without PP
      assert.are.equal(e.weights + e.gradients + e.optimizer + e.activations, e.total)
    end
  end)

  it("holds pp - s + 1 micro-batches' activations on stage s (1F1B)", function ()
    local r = run({ seq_len = 16, batch_size = 2, phase = "train" }, { pp = 2, global_batch = 8 })
    assert.are.equal(4, r.layout.micro_batches)
    assert.are.equal(2, r.stages[1].in_flight)
    assert.are.equal(1, r.stages[2].in_flight)
  end)

  it("counts each collective a training step runs, and its bytes", function ()
    local r = run({ seq_len = 16, batch_size = 2, phase = "train" }, { tp = 2, pp = 2, dp = 2, zero = 0, global_batch = 8 })
    -- 2 micro-batches of 2 x 16 tokens; a hidden state is 32 x 64 x 2 = 4,096 bytes
    local one = 32 * 64 * 2
    local function find(stage, group)
      for _, c in ipairs(r.collectives[stage]) do if c.group == group then return c end end
    end
    -- TP, stage 1: forward o_proj and down_proj of 2 layers and the embedding (5), backward
    -- the 4 column groups' input gradients: 9 a micro-batch; stage 2: 4 forward, 4 + lm_head's
    -- input gradient backward: 9
    for s = 1, 2 do
      local tp = find(s, "tp")
      assert.are.equal("all_reduce", tp.kind)
      assert.are.equal(9 * 2, tp.calls)
      assert.are.equal(9 * 2 * one, tp.bytes)
      assert.are.equal(9 * 2 * one, tp.wire_bytes) -- 2 (n - 1) / n = 1 for two ranks
    end
    -- PP: stage 1 sends activations, stage 2 gradients back: one each a micro-batch
    assert.are.same({ "p2p", 2, 2 * one }, { find(1, "pp").kind, find(1, "pp").calls, find(1, "pp").bytes })
    assert.are.same({ "p2p", 2, 2 * one }, { find(2, "pp").kind, find(2, "pp").calls, find(2, "pp").bytes })
    -- DP: the gradients of a rank's weights all-reduced once a step
    local dp = find(1, "dp")
    assert.are.same({ "all_reduce", 45312 * 2 }, { dp.kind, dp.bytes })
    -- ZeRO-3: reduce-scatter the gradients, all-gather the updated weights, and the weights
    -- again for the forward and the backward
    r = run({ seq_len = 16, batch_size = 2, phase = "train" }, { dp = 4, zero = 3 })
    local kinds = {}
    for _, c in ipairs(r.collectives[1]) do kinds[#kinds + 1] = c.kind .. " " .. c.bytes .. " " .. c.wire_bytes end
    assert.are.same({ "reduce_scatter 361600 271200", "all_gather 361600 271200", "all_gather 723200 542400" }, kinds)
  end)

  it("prices collectives on a ring (alpha-beta) and the 1F1B bubble", function ()
    -- all-reduce of 1 MB over 8 ranks at 100 GB/s, 5 us a step: 2*7/8 * 1e6 / 1e11 + 14 * 5e-6
    assert(math.abs(parallel.collective_time("all_reduce", 1e6, 8, 1e11, 5e-6) - (1.75e-5 + 7e-5)) < 1e-15)
    assert(math.abs(parallel.collective_time("all_gather", 1e6, 8, 1e11, 5e-6) - (8.75e-6 + 3.5e-5)) < 1e-15)
    assert.are.equal(0, parallel.collective_time("all_reduce", 1e6, 1, 1e11, 5e-6))
    local r = run({ seq_len = 16, batch_size = 2, phase = "train" }, { pp = 2, global_batch = 8 }, { hw = "h100-sxm" })
    -- (pp - 1) / (m + pp - 1) = 1 / 5
    assert(math.abs(r.timing.bubble_fraction - 0.2) < 1e-12)
    r = run({ seq_len = 16, batch_size = 2, phase = "train" }, { pp = 2, global_batch = 8, virtual_stages = 2 }, { hw = "h100-sxm" })
    -- interleaved: (pp - 1) / v / (m + (pp - 1) / v) = 0.5 / 4.5
    assert(math.abs(r.timing.bubble_fraction - 0.5 / 4.5) < 1e-12)
  end)

  it("holds Llama-2-7B under TP 2 x PP 2 as derived by hand", function ()
    local r = lmp.parallel("models/llama-2-7b-hf.json", { seq_len = 16 }, { tp = 2, pp = 2 })
    -- a layer a rank: (4 x 4096^2 + 3 x 4096 x 11008) / 2 + 2 norms of 4096 = 101,195,776;
    -- 16 layers a stage; the embedding and lm_head 32000 x 4096 / 2 = 65,536,000
    assert.are.equal(16 * 101195776 + 65536000, r.stages[1].params)        -- 1,684,668,416
    assert.are.equal(16 * 101195776 + 4096 + 65536000, r.stages[2].params) -- 1,684,672,512
  end)

  it("refuses a layout the model cannot take, in one line", function ()
    assert.error_matches(function () run({ seq_len = 16 }, { tp = 3 }) end, "is not divisible by %-%-tp 3")
    assert.error_matches(function () run({ seq_len = 16 }, { pp = 5 }) end, "%-%-pp 5 exceeds the model's 4 decoder layers")
    assert.error_matches(function () run({ seq_len = 16, phase = "train" }, { dp = 2, global_batch = 3 }) end,
      "not a multiple of %-%-micro%-batch 1 x %-%-dp 2")
    local _, err, code = h.run("analyze", TINY, "--tp", "2", "--phase", "generate", "--new-tokens", "4")
    assert.are.equal(2, code)
    assert.truthy(err:find("a parallel layout", 1, true), err)
  end)

  it("reports the layout in the table and in JSON", function ()
    local out, err, code = h.run("analyze", TINY, "--phase", "train", "--tp", "2", "--pp", "2", "--global-batch", "4",
      "--hw", "h100-sxm", "--depth", "0")
    assert.are.equal(0, code, err)
    assert.truthy(out:find("layout: tp 2 x pp 2 x dp 1 = 4 GPUs", 1, true), out)
    assert.truthy(out:find("<- largest", 1, true), out)
    out = h.run("analyze", TINY, "--tp", "2", "--format", "json", "--depth", "0")
    local j = lmp.json_decode(out)
    assert.are.equal(90688, j.layout.stages[1].params)
    assert.are.equal(2, j.layout.layout.tp)
  end)
end)

describe("activation recomputation", function ()
  local given = { seq_len = 16, batch_size = 2, phase = "train", attention = "eager" }

  it("selective drops eager attention's stored scores and probabilities", function ()
    local none = run(given, {}).stages[1]
    local sel = run(given, { recompute = "selective" }).stages[1]
    -- a layer's scores: 2 sequences x 4 heads x 16 x 16 at 2 bytes = 4,096, and as many
    -- probabilities; 4 layers
    assert.are.equal(none.activations - 4 * 2 * 4096, sel.activations)
    -- fused attention stores no scores: nothing to drop
    local fused = { seq_len = 16, batch_size = 2, phase = "train" }
    assert.are.equal(run(fused, {}).stages[1].activations, run(fused, { recompute = "selective" }).stages[1].activations)
  end)

  it("full keeps each decoder layer's input and one layer's activations", function ()
    local none = run(given, {})
    local full = run(given, { recompute = "full" }).stages[1]
    -- the block's saved activations in the plain run (its basic layers' inputs and intermediates)
    local block = none.stages[1].result:find("^model%.layers$")[1]
    local block_saved = 0
    for _, kid in ipairs(block.children) do
      local function add(n)
        if n.children then for _, c in ipairs(n.children) do add(c) end
        else block_saved = block_saved + (n.reads_bytes - n.weight_bytes) + n.intermediates_bytes end
      end
      add(kid)
    end
    block_saved = block_saved * 4 -- the rows under the x4 block are one instance's
    -- kept: 4 layers' inputs, 32 tokens x 64 x 2 bytes = 16,384; live: one layer's
    assert.are.equal(none.stages[1].activations - block_saved + 16384 + block_saved // 4, full.activations)
    local t = run(given, { recompute = "full" }, { hw = "h100-sxm" }).stages[1]
    assert(t.recompute_s > 0 and t.recompute_s < t.compute_s, "the rerun forward is part of the micro-batch's time")
  end)
end)

describe("a training budget", function ()
  it("gives the steps, lmp's FLOPs beside 6ND, and the wall time on hardware", function ()
    local r = run({ seq_len = 16, batch_size = 2, phase = "train" }, { dp = 2, tokens = 1000000 }, { hw = "h100-sxm" })
    -- a step: global batch 2 x dp 2 = 4 sequences of 16 tokens = 64; 1,000,000 / 64 = 15,625 steps
    assert.are.equal(64, r.tokens)
    assert.are.equal(15625, r.budget.steps)
    assert.are.equal(6 * 180800 * 1000000, r.budget.six_nd_flops)
    -- lmp's: one step's FLOPs (the unsplit model's training FLOPs for 4 sequences) per token
    local step = lmp.analyze(lmp.load(TINY), { seq_len = 16, batch_size = 4, phase = "train" }).totals.flops
    assert(math.abs(r.budget.lmp_flops - step / 64 * 1000000) < 1)
    assert(math.abs(r.timing.budget_s - 15625 * r.timing.step_s) < 1e-9)
    assert(math.abs(r.timing.gpu_hours - r.timing.budget_s * 2 / 3600) < 1e-9)
  end)

  it("reads 300B and 1.4T on the command line", function ()
    local out, err, code = h.run("analyze", TINY, "--phase", "train", "--dp", "2", "--tokens", "1.4T", "--depth", "0")
    assert.are.equal(0, code, err)
    assert.truthy(out:find("budget of 1,400,000,000,000 tokens", 1, true), out)
    local _, err2, code2 = h.run("analyze", TINY, "--phase", "train", "--tokens", "lots")
    assert.are.equal(2, code2)
    assert.truthy(err2:find("--tokens expects a number of tokens", 1, true), err2)
  end)
end)

describe("expert parallelism", function ()
  -- a small Mixtral: hidden 64, 4 experts of MLP 128 (3 x 64 x 128 = 24,576 each), top-2, 2
  -- layers; a layer's attention 12,288, router 256, norms 128; embedding and lm_head 16,384
  local MOE = "spec/fixtures/parallel/tiny-mixtral.json"
  local function moe(given, layout, opts) return lmp.parallel(MOE, given, layout, opts) end

  it("holds repeat / ep experts a rank and runs as many expert-token pairs", function ()
    local given = { seq_len = 16, phase = "train" }
    local none = moe(given, {}).stages[1]
    assert.are.equal(16384 + 2 * (12288 + 256 + 4 * 24576 + 128) + 64 + 16384, none.params) -- 254,784
    local ep2 = moe(given, { dp = 2, ep = 2 }).stages[1]
    assert.are.equal(16384 + 2 * (12288 + 256 + 2 * 24576 + 128) + 64 + 16384, ep2.params) -- 156,480
    -- one expert a rank, a token's two picks: the rank's expert runs twice the tokens
    local ep4 = moe(given, { dp = 4, ep = 4 }).stages[1]
    assert.are.equal(16384 + 2 * (12288 + 256 + 24576 + 128) + 64 + 16384, ep4.params) -- 107,328
    assert.are.equal(none.result.totals.matmul_flops, ep2.result.totals.matmul_flops)
    assert.are.equal(none.result.totals.matmul_flops, ep4.result.totals.matmul_flops)
  end)

  it("dispatches and combines each MoE layer's tokens with an all-to-all", function ()
    local r = moe({ seq_len = 16, phase = "train" }, { dp = 4, ep = 4, global_batch = 8 })
    -- 2 micro-batches of 16 tokens, 2 picks, 64 wide at 2 bytes: 4,096 bytes a call;
    -- 2 layers x (dispatch, combine) x (forward, backward) x 2 micro-batches = 16 calls
    local a2a
    for _, c in ipairs(r.collectives[1]) do if c.group == "ep" then a2a = c end end
    assert.are.same({ "all_to_all", 4, 16, 16 * 4096, 16 * 4096 * 3 // 4 },
      { a2a.kind, a2a.ranks, a2a.calls, a2a.bytes, a2a.wire_bytes })
  end)

  it("refuses an expert split the model cannot take", function ()
    assert.error_matches(function () moe({ seq_len = 16 }, { dp = 3, ep = 3 }) end, "4 experts are not divisible by %-%-ep 3")
    assert.error_matches(function () moe({ seq_len = 16 }, { dp = 2, ep = 4 }) end, "%-%-ep 4 must divide %-%-dp 2")
  end)
end)

describe("sequence parallelism", function ()
  it("runs norms and residual adds on seq / tp tokens, and turns each all-reduce into a reduce-scatter and an all-gather", function ()
    local given = { seq_len = 16, batch_size = 2, phase = "train" }
    local plain = run(given, { tp = 2 })
    local sp = run(given, { tp = 2, sp = true })
    local r = sp.stages[1].result
    -- 32 tokens: 16 a rank for the norms, and 16 x 64 elements for each residual add
    assert.are.equal(16, r:find("^model%.layers%.input_layernorm$")[1].parameters.N)
    assert.are.equal(16 * 64, r:find("^model%.layers%.residual_add_attn$")[1].parameters.numel)
    assert.are.equal(16, r:find("^model%.norm$")[1].parameters.N)
    -- the projections still see every token
    assert.are.equal(32, r:find("^model%.layers%.self_attn%.q_proj$")[1].parameters.N)
    local ar = plain.collectives[1][1]
    local rs, ag = sp.collectives[1][1], sp.collectives[1][2]
    assert.are.same({ "reduce_scatter", ar.calls, ar.bytes }, { rs.kind, rs.calls, rs.bytes })
    assert.are.same({ "all_gather", ar.calls, ar.bytes }, { ag.kind, ag.calls, ag.bytes })
    assert.are.equal(ar.wire_bytes, rs.wire_bytes + ag.wire_bytes) -- a ring moves the same bytes
    assert(sp.stages[1].activations < plain.stages[1].activations)
  end)
end)

describe("context parallelism", function ()
  it("runs seq / cp tokens a rank, attends over the whole sequence, and gathers K and V", function ()
    local r = run({ seq_len = 16, phase = "train" }, { cp = 2 })
    local res = r.stages[1].result
    local sdpa = res:find("scaled_dot_product_attention$")[1]
    assert.are.equal(8, sdpa.parameters.q_len)      -- a rank's queries: half the sequence
    assert.are.equal(16, sdpa.parameters.key_len)   -- over every key
    assert.are.equal(8, res:find("^model%.layers%.self_attn%.q_proj$")[1].parameters.N)
    -- K and V of the whole sequence a layer: 2 KV heads x 16 tokens x (16 + 16) x 2 bytes =
    -- 2,048; 4 layers: gathered forward, their gradients reduce-scattered backward
    local gather, scatter, grads
    for _, c in ipairs(r.collectives[1]) do
      if c.group == "cp" and c.kind == "all_gather" then gather = c end
      if c.group == "cp" and c.kind == "reduce_scatter" then scatter = c end
      if c.group == "dp" then grads = c end
    end
    assert.are.same({ 4, 4 * 2048 }, { gather.calls, gather.bytes })
    assert.are.same({ 4, 4 * 2048 }, { scatter.calls, scatter.bytes })
    -- the two context-parallel ranks hold the same weights: their gradients are all-reduced
    assert.are.same({ "all_reduce", 2, FULL * 2 }, { grads.kind, grads.ranks, grads.bytes })
    assert.are.equal(2, r.layout.gpus)
    assert.are.equal(16, r.tokens) -- a step's tokens are whole sequences
    assert.error_matches(function () run({ seq_len = 15, phase = "train" }, { cp = 2 }) end, "does not divide the sequence")
    -- ZeRO shards over the ranks holding the same weights: dp x cp = 2
    assert.are.equal(FULL * 12 // 2, run({ seq_len = 16, phase = "train" }, { cp = 2, zero = 1 }).stages[1].optimizer)
  end)
end)

describe("expert parallelism over fused experts", function ()
  it("splits gpt-oss-20b's GptOssExperts (32 of them, top-4) over the ranks", function ()
    local m = lmp.load_config("spec/fixtures/configs/openai--gpt-oss-20b.json")
    local given = { seq_len = 64, phase = "train" }
    -- an expert: gate_up 2880 x 5760 + 5760 bias, down 2880 x 2880 + 2880 bias = 24,891,840;
    -- 24 layers; the model 20,914,757,184 (the card's 20.91B)
    local expert, full = 24891840, 20914757184
    local base = lmp.parallel(m, given, {})
    assert.are.equal(full, base.stages[1].params)
    local ep4 = lmp.parallel(m, given, { dp = 4, ep = 4 }).stages[1]
    assert.are.equal(full - 24 * 24 * expert, ep4.params) -- 8 of 32 experts a rank: 6,577,057,344
    -- one expert a rank, a token's 4 picks: it runs 4 times the tokens
    local ep32 = lmp.parallel(m, given, { dp = 32, ep = 32 }).stages[1]
    assert.are.equal(full - 24 * 31 * expert, ep32.params) -- 2,395,228,224
    assert.are.equal(base.stages[1].result.totals.matmul_flops, ep4.result.totals.matmul_flops)
    assert.are.equal(base.stages[1].result.totals.matmul_flops, ep32.result.totals.matmul_flops)
  end)
end)
