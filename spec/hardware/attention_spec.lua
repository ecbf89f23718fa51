-- --attention eager|sdpa|flash: what each implementation stores and runs, derived by hand
-- (Llama-3-70B, batch 16, 8k context: the "will it fit" answer), the default and the model
-- file's "attention" (BLOOM and T5 run eager in transformers).
local lmp = require "lmp"
local h = require "spec.helpers"

local CONFIG = "spec/fixtures/configs/meta-llama--Meta-Llama-3-70B.json"

describe("attention implementations", function ()
  local model = lmp.load_config(CONFIG)

  it("Llama-3-70B prefill at batch 16, 8k: eager stores 256 GiB of scores, sdpa none", function ()
    local given = { batch_size = 16, seq_len = 8192 }
    local sdpa = lmp.analyze(model, given, { depth = 0 })
    -- Meta-Llama-3-70B: 70,553,706,496 parameters (the model card's 70B; the Hub's
    -- safetensors total), bf16
    assert.are.equal(70553706496, sdpa.totals.params)
    local weights = 70553706496 * 2
    -- K and V of 16 x 8192 tokens, 80 layers, 8 KV heads of 128, 2 bytes: 40 GiB
    local kv = 2 * 80 * 16 * 8192 * 8 * 128 * 2
    assert.are.equal(kv, sdpa.footprint.kv_cache)
    -- sdpa: the largest working set is lm_head's, input 16*8192*8192*2 and logits
    -- 16*8192*128256*2 bytes
    local lm_head = 16 * 8192 * 8192 * 2 + 16 * 8192 * 128256 * 2
    assert.are.equal(lm_head, sdpa.footprint.peak_activation)
    assert.are.equal(weights + kv + lm_head, sdpa.footprint.total) -- 204.7 GiB
    given.attention = "eager"
    local eager = lmp.analyze(model, given, { depth = 0 })
    -- eager: attention's, Q and O 2 x 16*64*8192*128*2, K and V 2 x 16*8*8192*128*2, and the
    -- scores and probabilities 2 x 16*64*8192*8192*2 (256 GiB)
    local attn = 2 * (16 * 64 * 8192 * 128 * 2) + 2 * (16 * 8 * 8192 * 128 * 2) + 2 * (16 * 64 * 8192 * 8192 * 2)
    assert.are.equal(attn, eager.footprint.peak_activation)
    assert.are.equal(weights + kv + attn, eager.footprint.total) -- 431.9 GiB
    -- the same FLOPs forward
    assert.are.equal(eager.totals.flops, sdpa.totals.flops)
    -- on 8 x H200 (141 GiB, 10% kept): 1,015 GiB usable; on 2 x H200 (253.8 GiB) only sdpa fits
    local on2 = lmp.analyze(model, { batch_size = 16, seq_len = 8192 }, { depth = 0, hw = "h200", gpus = 2 })
    assert.is_true(on2.timing[1].fit.fits)
    on2 = lmp.analyze(model, { batch_size = 16, seq_len = 8192, attention = "eager" }, { depth = 0, hw = "h200", gpus = 2 })
    assert.is_false(on2.timing[1].fit.fits)
  end)

  it("sdpa and flash price alike; eager's backward has 4 products, fused 5", function ()
    local m = lmp.load_model("models/gpt2.json")
    local function attn_bwd(impl)
      local r = lmp.analyze(m, { seq_len = 1024, phase = "train", attention = impl })
      return r:find("scaled_dot_product_attention$")[1].backward_matmul_flops
    end
    -- GPT-2: 12 heads of 64, 1024 tokens; a forward product 2*12*1024*1024*64 = 1,610,612,736
    local one = 2 * 12 * 1024 * 1024 * 64
    assert.are.equal(4 * one, attn_bwd("eager"))
    assert.are.equal(5 * one, attn_bwd("sdpa"))
    assert.are.equal(5 * one, attn_bwd("flash"))
  end)

  it("takes --attention on the command line, reports it, and refuses other names", function ()
    local out, err, code = h.run("analyze", "models/gpt2.json", "--attention", "flash", "--format", "json", "--depth", "0")
    assert.are.equal(0, code, err)
    assert.are.equal("flash", lmp.json_decode(out).inputs.attention)
    out = h.run("analyze", "models/gpt2.json", "--format", "json", "--depth", "0")
    assert.are.equal("sdpa", lmp.json_decode(out).inputs.attention)
    local _
    _, err, code = h.run("analyze", "models/gpt2.json", "--attention", "math")
    assert.are.equal(2, code)
    assert.truthy(err:find("--attention expects eager, sdpa or flash, got 'math'", 1, true), err)
    assert.error_matches(function () lmp.analyze("models/gpt2.json", { attention = "xformers" }) end,
      "attention must be eager, sdpa or flash")
  end)

  it("defaults to eager where transformers has no SDPA path (the model file's attention)", function ()
    local bloom = lmp.load_config("spec/fixtures/configs/bigscience--bloom-560m.json")
    assert.are.equal("eager", bloom.attention)
    local r = lmp.analyze(bloom, { seq_len = 128 }, { depth = 0 })
    assert.are.equal("eager", r.inputs.attention)
    -- 24 layers x 16 heads x 128^2 scores x 2 bytes x 2 (scores and probabilities), and
    -- nothing else of BLOOM's stores intermediates
    local scores = 24 * 16 * 128 * 128 * 2 * 2
    assert(r.totals.intermediates_bytes >= scores, r.totals.intermediates_bytes)
    local fused = lmp.analyze(bloom, { seq_len = 128, attention = "sdpa" }, { depth = 0 })
    assert.are.equal(scores, r.totals.intermediates_bytes - fused.totals.intermediates_bytes)
    local _, err = h.run("analyze", h.write('{"attention": "math", "layers": [{"name": "x", "class": "torch.add"}]}'))
    assert.truthy(err:find('$.attention: expected "eager", "sdpa" or "flash"', 1, true), err)
  end)
end)
