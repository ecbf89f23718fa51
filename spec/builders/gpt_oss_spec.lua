-- The gpt-oss builder (lua/lmp/builders/gpt_oss.lua) on gpt-oss-20b and gpt-oss-120b: attention with
-- biases and per-head sinks, sliding-window (128) and full layers in turn, a MoE of fused experts with
-- biases (top 4, softmax over the top 4). Every expected figure is derived by hand in the comments,
-- from modeling_gpt_oss.py and the configs.
local lmp = require "lmp"
local h = require "spec.helpers"

local R = h.CONFIGS
local AT_128 = h.AT_128
local edited = h.edited_config
local build_error = h.build_error

local NAME = "openai--gpt-oss-20b.json"
local M = "transformers.models.gpt_oss.modeling_gpt_oss."

local function load(name) return (lmp.load_config(R .. (name or NAME))) end
local function analyze(model, inputs, depth) return lmp.analyze(model, inputs or AT_128, { depth = depth }) end

describe("gpt_oss builder", function ()
  -- hidden 2880, 64 heads and 8 KV heads of 64, experts of 2880, vocab 201088, untied. Per layer:
  --   q 2880 * 4096 + 4096 = 11,800,576; k, v 2 * (2880 * 512 + 512) = 2,950,144; o 4096 * 2880 + 2880
  --   = 11,799,360; sinks 64 -> attention 26,550,144; two norms 5,760
  --   one expert: gate_up 2880 * 5760 + 5760 = 16,594,560, down 2880 * 2880 + 2880 = 8,297,280 -> 24,891,840
  -- embed_tokens and lm_head 2 * 201088 * 2880 = 1,158,266,880; norm 2,880
  -- The card's "active" counts the unembedding but not the embedding lookup (579,133,440): its active
  -- figure is lmp's active_params less the embedding.
  local EMBED = 201088 * 2880

  it("counts gpt-oss-20b exactly (OpenAI's card: 20.91B total, 3.61B active)", function ()
    -- 32 experts: router 2880 * 32 + 32 = 92,192; experts 32 * 24,891,840 = 796,538,880
    --   layer 26,550,144 + 92,192 + 796,538,880 + 5,760 = 823,186,976; x 24 = 19,756,487,424
    --   total 19,756,487,424 + 1,158,266,880 + 2,880 = 20,914,757,184 (the GGUF's general.parameter_count)
    -- active: 26,550,144 + 92,192 + 4 * 24,891,840 + 5,760 = 126,215,456; x 24 = 3,029,170,944
    --   + 1,158,266,880 + 2,880 = 4,187,440,704; less the embedding 3,608,307,264 (3.61B)
    local r = analyze(load())
    assert.are.equal(20914757184, r.totals.params)
    assert.are.equal(4187440704, r.totals.active_params)
    assert.are.same({ 2091, 361 }, { math.floor(r.totals.params / 1e7 + 0.5), math.floor((r.totals.active_params - EMBED) / 1e7 + 0.5) })
    assert.are.same({}, r.unknown_modules)
  end)

  it("counts gpt-oss-120b exactly (OpenAI's card: 116.83B total, 5.13B active)", function ()
    -- 36 layers, 128 experts: router 2880 * 128 + 128 = 368,768; experts 128 * 24,891,840 = 3,186,155,520
    --   layer 26,550,144 + 368,768 + 3,186,155,520 + 5,760 = 3,213,080,192; x 36 = 115,670,886,912
    --   total + 1,158,269,760 = 116,829,156,672
    -- active: 26,550,144 + 368,768 + 99,567,360 + 5,760 = 126,492,032; x 36 = 4,553,713,152
    --   + 1,158,269,760 = 5,711,982,912; less the embedding 5,132,849,472 (5.13B)
    local r = analyze(load("openai--gpt-oss-120b.json"))
    assert.are.equal(116829156672, r.totals.params)
    assert.are.equal(5711982912, r.totals.active_params)
    assert.are.same({ 11683, 513 }, { math.floor(r.totals.params / 1e7 + 0.5), math.floor((r.totals.active_params - EMBED) / 1e7 + 0.5) })
  end)

  it("mirrors GptOssForCausalLM: 12 sliding and 12 full layers, sinks, a routed MLP", function ()
    local m = lmp.build(lmp.read_config(R .. NAME))
    local model = m.layers[1]
    assert.are.equal(M .. "GptOssModel", model.class)
    local sliding, full = model.sub_layers[2], model.sub_layers[3]
    assert.are.same({ 12, 12 }, { sliding["repeat"], full["repeat"] })
    assert.are.equal("sliding_attention (window 128): layers 0, 2, 4, 6, 8, 10, 12, 14, ...", sliding.note)
    assert.are.equal("full_attention: layers 1, 3, 5, 7, 9, 11, 13, 15, ...", full.note)
    local function names(block)
      local out = {}
      for _, l in ipairs(block.sub_layers) do out[#out + 1] = l.name end
      return out
    end
    assert.are.same({ "input_layernorm", "self_attn", "residual_add_attn", "post_attention_layernorm", "mlp", "residual_add_mlp" },
                    names(sliding))
    assert.are.same({ "q_proj", "k_proj", "v_proj", "apply_rotary_pos_emb", "past_key_value", "scaled_dot_product_attention",
                      "sinks", "sinks_softmax", "o_proj" }, names(sliding.sub_layers[2]))
    local mlp = sliding.sub_layers[5]
    assert.are.equal(M .. "GptOssMLP", mlp.class)
    assert.are.same({ "router", "topk", "softmax", "experts", "routing_weight_mul", "expert_sum" }, names(mlp))
    assert.are.same({ M .. "GptOssExperts", 32, 4 }, { mlp.sub_layers[4].class, mlp.sub_layers[4]["repeat"], mlp.sub_layers[4].active })
    assert.is_nil(m.layers[2].weights_tied_to)
  end)

  it("prices one decoder layer at batch 1, seq 128 by hand", function ()
    -- T 128, H 2880, 64 heads and 8 KV heads of 64, 4 experts a token of 2880.
    -- norms 2 * T * H * (3 + 1) = 2,949,120; residual adds 2 * T * H = 737,280
    -- self_attn: q 2 * 128 * 2880 * 4096 + 128 * 4096 = 3,020,423,168; k, v 2 * (2 * 128 * 2880 * 512 + 128 * 512)
    --   = 755,105,792; o 2 * 128 * 4096 * 2880 + 128 * 2880 = 3,020,267,520; rotary 3 * 128 * 64 * 72 = 1,769,472;
    --   scores and values 4 * 64 * 128 * 128 * 64 = 268,435,456 (128 keys: a sliding layer's whole window)
    --   and 7 a score 64 * 128 * 128 * 7 = 7,340,032; the sink in each row's softmax 128 * 64 * 5 = 40,960
    --   -> 7,073,382,400
    -- mlp: router 2 * 128 * 2880 * 32 + 128 * 32 = 23,597,056; topk 128 * 32 * 4 = 16,384; softmax 128 * 4 * 5
    --   = 2,560; one expert 2 * 128 * 2880 * 5760 + 2 * 128 * 2880 * 2880 + 128 * 2880 * 10 (clamps, alpha,
    --   sigmoid, glu, +1, mul) + biases 128 * 5760 + 128 * 2880 = 6,374,891,520, x 4 = 25,499,566,080;
    --   routing_weight_mul and expert_sum 2 * 128 * 4 * 2880 = 2,949,120 -> 25,526,131,200
    -- total 32,603,200,000, both kinds of layer
    local layers = analyze(load(), nil, 2):find("^model%.layers$")
    assert.are.equal(2, #layers)
    for _, l in ipairs(layers) do assert.are.equal(12 * 32603200000, l.flops) end
  end)

  it("sums the matmul FLOPs of a 128-token prefill", function ()
    -- a layer's products: q, o 2 * 2 * 128 * 2880 * 4096 = 6,039,797,760; k, v 754,974,720; attention 268,435,456;
    --   router 23,592,960; 4 experts 4 * 6,370,099,200 = 25,480,396,800 -> 32,567,197,696; x 24 = 781,612,744,704
    -- lm_head 2 * 128 * 2880 * 201088 = 148,258,160,640; the rotary tables once a forward,
    -- inv_freq @ position_ids: 2 * 1 * (64 / 2) * 1 * 128 = 8,192
    local rotary_tables = 8192
    assert.are.equal(781612744704 + 148258160640 + rotary_tables, analyze(load()).totals.matmul_flops)
  end)

  describe("decode: sliding layers read and cache at most 128 tokens, full ones every token", function ()
    -- one token: Linear weights it runs through 24 * (2880 * 9216 + 2880 * 32 + 4 * 3 * 2880 * 2880) = 24 * 126,167,040
    -- = 3,028,008,960 + lm_head 579,133,440 = 3,607,142,400, x 2 = 7,214,284,800; attention 4 * 64 * 64 = 16,384
    -- FLOPs a key; the rotary tables of the one new position 2 * 32 * 1 * 1 = 64; the cache 2 * 8 * 64 * 2 bytes
    -- = 2,048 bytes a token a layer
    it("beyond the window (kv_len 1000): sliding layers 128 keys, full 1001", function ()
      local r = analyze(load(), { batch_size = 1, seq_len = 1, kv_len = 1000 })
      assert.are.equal(7214284800 + 16384 * 12 * (128 + 1001) + 64, r.totals.matmul_flops) -- 7,436,255,296
      assert.are.equal(12 * 2048 * (128 + 1001), r.footprint.kv_cache)               -- 27,746,304
    end)
    it("within it (kv_len 100): both kinds 101", function ()
      local r = analyze(load(), { batch_size = 1, seq_len = 1, kv_len = 100 })
      assert.are.equal(24 * 2048 * 101, r.footprint.kv_cache)
    end)
  end)

  it("takes layer_types when the config gives it", function ()
    local types = {}
    for i = 1, 24 do types[i] = i <= 4 and "sliding_attention" or "full_attention" end
    local m = lmp.build(edited(NAME, { layer_types = types }))
    assert.are.same({ 4, 20 }, { m.layers[1].sub_layers[2]["repeat"], m.layers[1].sub_layers[3]["repeat"] })
  end)

  describe("refuses bad configs, naming the field", function ()
    it("a missing expert count", function ()
      assert.error_matches(build_error(edited(NAME, { num_local_experts = h.REMOVE })), "num_local_experts: missing")
    end)
    it("more experts per token than experts", function ()
      assert.error_matches(build_error(edited(NAME, { num_experts_per_tok = 33 })), "num_experts_per_tok: 33 is more than num_local_experts")
    end)
    it("layer_types of the wrong length", function ()
      assert.error_matches(build_error(edited(NAME, { layer_types = { "full_attention" } })), "layer_types: expected a list of 24")
    end)
  end)
end)
