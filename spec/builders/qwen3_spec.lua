-- The Qwen3 builder (lua/lmp/builders/qwen3.lua) on Qwen3-8B: Llama-shaped, head_dim 128 from
-- the config, q_norm / k_norm over each head. Every expected figure is derived by hand here.
local lmp = require "lmp"
local h = require "spec.helpers"

local R = h.CONFIGS
local AT_128 = h.AT_128
local REMOVE = h.REMOVE
local edited = h.edited_config
local build_error = h.build_error

local NAME = "Qwen--Qwen3-8B.json"

local function analyze(depth) return lmp.analyze(lmp.load_config(R .. NAME), AT_128, { depth = depth }) end

describe("qwen3 builder", function ()
  it("counts Qwen3-8B exactly", function ()
    -- hidden 4096, 32 heads and 8 KV heads of 128, intermediate 12288, 36 layers, vocab 151936
    -- per layer: q, o 2 * 4096^2 = 33,554,432; k, v 2 * 4096 * 1024 = 8,388,608;
    --   q_norm, k_norm 2 * 128 = 256; gate/up/down 3 * 4096 * 12288 = 150,994,944;
    --   two Qwen3RMSNorm 8,192: 192,946,432; x 36 = 6,946,071,552
    -- embed_tokens and lm_head (untied) 2 * 151936 * 4096 = 1,244,659,712; norm 4,096
    -- total 8,190,735,360
    local r = analyze()
    assert.are.equal(8190735360, r.totals.params)
    assert.are.same({}, r.unknown_modules)
  end)

  it("counts the tied Qwen3-0.6B and Qwen3-4B exactly (keras-hub's presets: 596,049,920 and 4,022,468,096)", function ()
    -- Qwen3-0.6B: hidden 1024, 16 heads and 8 KV heads of 128 (heads * head_dim 2048 > hidden),
    --   intermediate 3072, 28 layers, lm_head tied
    --   per layer: q, o 2 * 1024 * 2048 = 4,194,304; k, v 2 * 1024 * 1024 = 2,097,152; q/k norms 256;
    --   MLP 3 * 1024 * 3072 = 9,437,184; norms 2,048 -> 15,730,944; x 28 = 440,466,432
    --   embed_tokens 151936 * 1024 = 155,582,464; norm 1,024 -> 596,049,920
    local small = { hidden_size = 1024, intermediate_size = 3072, num_hidden_layers = 28, num_attention_heads = 16,
                    num_key_value_heads = 8, tie_word_embeddings = true }
    assert.are.equal(596049920, lmp.analyze(h.build(edited(NAME, small)), AT_128).totals.params)
    -- Qwen3-4B: hidden 2560, 32 heads and 8 KV heads of 128, intermediate 9728, 36 layers, tied
    --   per layer: q, o 2 * 2560 * 4096 = 20,971,520; k, v 2 * 2560 * 1024 = 5,242,880; q/k norms 256;
    --   MLP 3 * 2560 * 9728 = 74,711,040; norms 5,120 -> 100,930,816; x 36 = 3,633,509,376
    --   embed_tokens 151936 * 2560 = 388,956,160; norm 2,560 -> 4,022,468,096
    local mid = { hidden_size = 2560, intermediate_size = 9728, num_hidden_layers = 36, num_attention_heads = 32,
                  num_key_value_heads = 8, tie_word_embeddings = true }
    assert.are.equal(4022468096, lmp.analyze(h.build(edited(NAME, mid)), AT_128).totals.params)
  end)

  it("counts the other Qwen3 sizes at keras-hub's published counts", function ()
    -- per layer: 2 * hidden * heads * 128 (q, o) + 2 * hidden * kv * 128 (k, v) + 256 (q/k norms)
    --   + 3 * hidden * intermediate + 2 * hidden (norms); plus vocab 151936 * hidden once (tied)
    --   or twice, plus the final norm
    -- 1.7B: 28 * (2*2048*2048 + 2*2048*1024 + 256 + 3*2048*6144 + 4096) + 151936*2048 + 2048
    --      = 28 * 50,336,000 + 311,166,976 = 1,720,574,976
    -- 14B: 40 * (2*5120*5120 + 2*5120*1024 + 256 + 3*5120*17408 + 10240) + 2*151936*5120 + 5120
    --      = 40 * 330,311,936 + 1,555,829,760 = 14,768,307,200
    -- 32B: 64 * (2*5120*8192 + 2*5120*1024 + 256 + 3*5120*25600 + 10240) + 2*151936*5120 + 5120
    --      = 64 * 487,598,336 + 1,555,829,760 = 32,762,123,264
    local sizes = {
      { 1720574976, { hidden_size = 2048, intermediate_size = 6144, num_hidden_layers = 28, num_attention_heads = 16,
                      num_key_value_heads = 8, tie_word_embeddings = true } },
      { 14768307200, { hidden_size = 5120, intermediate_size = 17408, num_hidden_layers = 40, num_attention_heads = 40,
                       num_key_value_heads = 8 } },
      { 32762123264, { hidden_size = 5120, intermediate_size = 25600, num_hidden_layers = 64, num_attention_heads = 64,
                       num_key_value_heads = 8 } },
    }
    for _, c in ipairs(sizes) do
      assert.are.equal(c[1], lmp.analyze(h.build(edited(NAME, c[2])), AT_128).totals.params)
    end
  end)

  it("puts q_norm and k_norm, one RMSNorm of head_dim per head, in self_attn", function ()
    local attn = lmp.build(lmp.read_config(R .. NAME)).layers[1].sub_layers[2].sub_layers[2]
    assert.are.equal("transformers.models.qwen3.modeling_qwen3.Qwen3Attention", attn.class)
    local q_norm, k_norm = attn.sub_layers[4], attn.sub_layers[5]
    assert.are.equal("transformers.models.qwen3.modeling_qwen3.Qwen3RMSNorm", q_norm.class)
    assert.are.same({ "q_norm", 128, "k_norm", 128 },
      { q_norm.name, q_norm.parameters.hidden_size, k_norm.name, k_norm.parameters.hidden_size })
  end)

  it("prices batch 1, seq 128 in closed form", function ()
    -- Linear weights: 36 * (33,554,432 + 8,388,608 + 150,994,944) + lm_head 4096 * 151936
    --   = 36 * 192,937,984 + 622,329,856 = 7,568,097,280; x 2 * 128 = 1,937,432,903,680
    -- attention: 4 * 36 layers * 32 heads * 128 * 128 * 128 = 9,663,676,416
    -- rotary_emb's inv_freq @ position_ids, once a forward: 128 * 128 = 16,384
    -- total 1,947,096,596,480
    assert.are.equal(1947096596480, analyze().totals.matmul_flops)
  end)

  it("prices one decoder layer by hand", function ()
    -- 128 tokens: input/post norms 2 * 128 * 4096 * (rmsnorm 3 + weight 1) = 4,194,304
    --   q_proj, o_proj 2 * 2 * 128 * 4096^2 = 8,589,934,592; k_proj, v_proj 2 * 2 * 128 * 4096 * 1024 = 2,147,483,648
    --   q_norm 128 * 32 * 128 * 4 = 2,097,152; k_norm 128 * 8 * 128 * 4 = 524,288
    --   rotary 3 * 128 * 128 * (32 + 8) = 1,966,080
    --   sdpa 4 * 32 * 128^3 = 268,435,456 + scores 32 * 128 * 128 * (scale 1 + softmax 5 + mask 1) = 3,670,016
    --   MLP 3 * 2 * 128 * 4096 * 12288 = 38,654,705,664; silu 128 * 12288 * 4 = 6,291,456; mul 1,572,864
    --   residual adds 2 * 128 * 4096 = 1,048,576
    --   total 49,681,924,096
    local layers = analyze(2):find("^model%.layers$")[1]
    assert.are.equal(36, layers["repeat"])
    assert.are.equal(49681924096 * 36, layers.flops)
  end)

  pending("use_sliding_window: true makes layers max_window_layers.. sliding (Qwen3Config.layer_types); " ..
    "they are counted as full attention with a full cache (no released Qwen3 / Qwen2-MoE config turns it on)")

  describe("refuses bad configs, naming the field", function ()
    it("a missing field", function ()
      assert.error_matches(build_error(edited(NAME, { num_hidden_layers = REMOVE })), "num_hidden_layers: missing")
    end)
    it("a wrong type", function ()
      assert.error_matches(build_error(edited(NAME, { head_dim = "128" })), "head_dim: expected an integer")
    end)
  end)
end)
