-- --phase train counts the backward pass's bytes and Adam's step, per module, and times the
-- forward, the backward and the optimizer apart. Values derived by hand here.
local lmp = require "lmp"

local SDPA = "torch.nn.functional.scaled_dot_product_attention"

local function close(want, got, what)
  assert(math.abs(got - want) <= 1e-9 * math.abs(want), ("%s: want %.12g, got %.12g"):format(what or "time", want, got))
end

describe("training traffic", function ()
  local linear = lmp.load_model_string([[{"model_id": "one-linear", "layers": [
    {"name": "proj", "class": "torch.nn.modules.linear.Linear",
     "parameters": {"in_features": 4096, "out_features": 4096, "bias": false, "N": "${batch_size} * ${seq_len}"}}]}]],
    "one-linear.json")

  it("a Linear's backward reads dY twice, the weights and the input; writes dX and dW", function ()
    local r = lmp.analyze(linear, { seq_len = 1024, phase = "train" })
    local t = r.totals
    local x, w, y = 1024 * 4096 * 2, 4096 * 4096 * 2, 1024 * 4096 * 2
    assert.are.equal(x + w, t.reads_bytes)
    assert.are.equal(y, t.writes_bytes)
    assert.are.equal(2 * y + x + w, t.backward_reads_bytes)  -- 58,720,256
    assert.are.equal(x + w, t.backward_writes_bytes)         -- 41,943,040
    -- Adam, mixed precision: fp32 master, m and v read and written (24 bytes), the bf16
    -- gradient read and the bf16 weights written (2 + 2): 28 bytes a parameter
    assert.are.equal(4096 * 4096 * 28, t.optimizer_bytes)
    local fp32 = lmp.analyze(linear, { seq_len = 1024, phase = "train", w_bits = 32, a_bits = 32 }).totals
    -- at 32 bits: gradient read, parameter read and written (3 x 4) and the moments (16)
    assert.are.equal(4096 * 4096 * 28, fp32.optimizer_bytes)
    -- no backward bytes outside training
    assert.is_nil(lmp.analyze(linear, { seq_len = 1024 }).totals.backward_reads_bytes)
  end)

  it("times forward, backward (two kernels) and the optimizer step apart", function ()
    local r = lmp.analyze(linear, { seq_len = 1024, phase = "train" }, { hw = "a100-sxm-80gb" })
    local peak, bw = 312e12 * 0.75, 2039e9 * 0.85
    local function t(tc, tm, floor) return (tc ^ 4 + tm ^ 4) ^ 0.25 + floor end
    local f = 2 * 1024 * 4096 * 4096
    local fwd = t(f / peak, (1024 * 4096 * 2 * 2 + 4096 * 4096 * 2) / bw, 2e-6)
    local bwd = t(2 * f / peak, (58720256 + 41943040) / bw, 4e-6)
    local opt = 4096 * 4096 * 28 / bw + 2e-6 -- elementwise_memory 0.85, as gemm_memory
    local e = r.timing[1]
    close(fwd, e.forward_s, "forward")
    close(bwd, e.backward_s, "backward")
    close(opt, e.optimizer_s, "optimizer")
    close(fwd + bwd + opt, e.step_s, "step")
  end)

  it("eager attention's backward reads the probabilities and writes dP and dS; fused never a score", function ()
    -- one Llama-2-7B layer, 2048 tokens: Q, K, V, O, dO, dQ, dK, dV 32*2048*128*2 = 16,777,216
    -- bytes each; a score matrix 32*2048*2048*2 = 268,435,456
    local p = { batch_size = 1, num_heads = 32, num_kv_heads = 32, q_len = 2048, key_len = 2048,
                head_dim = 128, masked = true, attention = 0 }
    local t, s = 16777216, 268435456
    local c = lmp.compute(SDPA, p, true)
    -- reads dO twice, P twice, dP, dS twice, V, K, Q; writes dP, dS, dQ, dK, dV
    assert.are.equal(2 * t + 5 * s + 3 * t, c.backward_reads)
    assert.are.equal(2 * s + 3 * t, c.backward_writes)
    p.attention = 2
    c = lmp.compute(SDPA, p, true)
    -- reads Q, K, V, O, dO twice and two fp32 rows (log-sum-exp, D: 32*2048*4 each);
    -- writes dQ, dK, dV and D
    local row = 32 * 2048 * 4
    assert.are.equal(4 * t + 2 * t + 2 * row, c.backward_reads)
    assert.are.equal(3 * t + row, c.backward_writes)
  end)

  it("prices a layer without its own rule by the default: dY, saved inputs and weights in, gradients out", function ()
    -- LlamaRMSNorm over 4 rows of 8: reads x 64 B and the weight 16 B, writes 64 B
    local c = lmp.compute("transformers.models.llama.modeling_llama.LlamaRMSNorm", { N = 4, hidden_size = 8 }, true)
    assert.are.equal(80, c.reads)
    assert.are.equal(64 + 80, c.backward_reads)
    assert.are.equal(80, c.backward_writes)
  end)
end)
