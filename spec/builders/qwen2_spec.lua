-- The Qwen2 builder (lua/lmp/builders/qwen2.lua) on Qwen2-7B: Llama-shaped, biases on q/k/v only.
-- Every expected figure is derived by hand in the comments.
local lmp = require "lmp"
local h = require "spec.helpers"

local R = h.CONFIGS
local AT_128 = { batch_size = 1, seq_len = 128, kv_len = 0 }
local REMOVE = h.REMOVE

local function analyze(model) return lmp.analyze(model, AT_128) end
local edited = h.edited_config
local build_error = h.build_error

local NAME = "Qwen--Qwen2-7B.json"

describe("qwen2 builder", function ()
  it("counts Qwen2-7B exactly", function ()
    -- hidden 3584, 28 heads of 128, 4 KV heads (512), intermediate 18944, 28 layers, vocab 152064
    -- per layer: q 3584^2 + 3584 = 12,848,640; k, v 2 * (3584 * 512 + 512) = 3,671,040;
    --   o 3584^2 = 12,845,056 (no bias); gate/up/down 3 * 3584 * 18944 = 203,685,888;
    --   two Qwen2RMSNorm 7,168: 233,057,792; x 28 = 6,525,618,176
    -- embed_tokens and lm_head 2 * 152064 * 3584 = 1,089,994,752; norm 3,584 -> 7,615,616,512
    local r = analyze(lmp.load_config(R .. NAME))
    assert.are.equal(7615616512, r.totals.params)
    assert.are.same({}, r.unknown_modules)
  end)

  it("puts biases on q_proj, k_proj, v_proj and nowhere else", function ()
    local attn = lmp.build(lmp.read_config(R .. NAME)).layers[1].sub_layers[2].sub_layers[2]
    assert.are.equal("transformers.models.qwen2.modeling_qwen2.Qwen2Attention", attn.class)
    local bias = {}
    for _, l in ipairs(attn.sub_layers) do
      if l.class == "torch.nn.modules.linear.Linear" then bias[l.name] = l.parameters.bias end
    end
    assert.are.same({ q_proj = true, k_proj = true, v_proj = true, o_proj = false }, bias)
  end)

  it("prices batch 1, seq 128 in closed form", function ()
    -- Linear weights: 28 * (2 * 3584^2 + 2 * 3584 * 512 + 203,685,888) + lm_head 3584 * 152064
    --   = 28 * 233,046,016 + 544,997,376 = 7,070,285,824; x 2 * 128 = 1,809,993,170,944
    -- (the bias adds are not matrix products)
    -- attention: 4 * 28 layers * 28 heads * 128 * 128 * 128 = 6,576,668,672
    -- rotary_emb's inv_freq @ position_ids, once a forward: 128 * 128 = 16,384
    -- total 1,816,569,856,000
    local r = analyze(lmp.load_config(R .. NAME))
    assert.are.equal(1816569856000, r.totals.matmul_flops)
  end)

  describe("refuses bad configs, naming the field", function ()
    it("a missing field", function ()
      assert.error_matches(build_error(edited(NAME, { num_attention_heads = REMOVE })), "num_attention_heads: missing")
    end)
    it("a wrong type", function ()
      assert.error_matches(build_error(edited(NAME, { hidden_size = 3584.5 })), "hidden_size: expected an integer")
    end)
    it("an absurd size", function ()
      assert.error_matches(build_error(edited(NAME, { vocab_size = 1 << 40 })), "vocab_size: .* is beyond")
    end)
  end)

  it("bundles models/qwen2-7b.json with the published count", function ()
    local r = analyze(lmp.load_model("models/qwen2-7b.json"))
    assert.are.equal(7615616512, r.totals.params)
  end)
end)
