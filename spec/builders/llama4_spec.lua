-- The Llama 4 builder (lua/lmp/builders/llama4.lua) on Llama-4-Scout-17B-16E's text model: 48 layers,
-- every one a Llama4TextMoe (16 experts, top 1, a shared expert), RoPE + chunked attention (chunk 8192)
-- with the qk L2 norm on three of four layers, NoPE global attention with temperature tuning on every 4th.
-- Every expected figure is derived by hand in the comments, from modeling_llama4.py and the config.
local lmp = require "lmp"
local h = require "spec.helpers"

local R = h.CONFIGS
local AT_128 = h.AT_128
local build_error = h.build_error

local NAME = "meta-llama--Llama-4-Scout-17B-16E.json"
local M = "transformers.models.llama4.modeling_llama4."

-- text(changes) -> the Scout config with fields of its text_config changed
local function text(changes)
  local cfg = lmp.read_config(R .. NAME)
  for k, v in pairs(changes) do
    if v == h.REMOVE then cfg.text_config[k] = nil else cfg.text_config[k] = v end
  end
  return cfg
end
local function scout() return (lmp.load_config(R .. NAME)) end
local function analyze(model, inputs, depth) return lmp.analyze(model, inputs or AT_128, { depth = depth }) end

describe("llama4 builder", function ()
  it("counts Scout's text model exactly; with the vision model, the Hub's total (Meta's card: 109B, 17B active)", function ()
    -- text_config: hidden 5120, 48 layers, 40 heads and 8 KV heads of 128, 16 experts of 8192, top 1,
    -- a shared expert of 8192, vocab 202048, untied. Per layer:
    --   q, o 2 * 5120 * 5120 = 52,428,800; k, v 2 * 5120 * 1024 = 10,485,760       -> 62,914,560
    --   router 5120 * 16 = 81,920; one expert (gate_up_proj and down_proj slices) 3 * 5120 * 8192
    --   = 125,829,120, x 16 = 2,013,265,920; shared expert 125,829,120; two norms 10,240
    --   -> 2,202,101,760; x 48 = 105,700,884,480
    -- embed_tokens and lm_head 2 * 202048 * 5120 = 2,068,971,520; norm 5,120 -> 107,769,861,120
    -- active: per layer 62,914,560 + 81,920 + 2 * 125,829,120 + 10,240 = 314,664,960; x 48
    --   = 15,103,918,080 + 2,068,976,640 = 17,172,894,720 (17B)
    local r = analyze(scout())
    assert.are.equal(107769861120, r.totals.params)
    assert.are.equal(17172894720, r.totals.active_params)
    assert.are.equal(17, math.floor(r.totals.active_params / 1e9 + 0.5))
    assert.are.same({}, r.unknown_modules)
    -- the vision model lmp leaves out, from vision_config (hidden 1408, 34 layers, intermediate 5632,
    -- patch 14 of 336-pixel images, outputs 4096): patch_embedding 588 * 1408 = 827,904; class_embedding
    -- 1,408; positional_embedding_vlm (24^2 + 1) * 1408 = 812,416; layernorm_pre/post 5,632; 34 layers of
    -- q/k/v/o with biases 4 * (1408^2 + 1408) + fc1 1408 * 5632 + 5632 + fc2 5632 * 1408 + 1408 + two
    -- LayerNorms 5,632 = 23,807,872 -> 809,467,648; vision_adapter fc1 5632 * 4096 = 23,068,672, fc2
    -- 4096^2 = 16,777,216; multi_modal_projector 4096 * 5120 = 20,971,520 -> 871,932,416.
    -- Total 108,641,793,536: the Hub's safetensors total of Llama-4-Scout-17B-16E-Instruct (the same
    -- architecture), 109B on Meta's card.
    assert.are.equal(108641793536, r.totals.params + 871932416)
    assert.are.equal(109, math.floor((r.totals.params + 871932416) / 1e9 + 0.5))
  end)

  it("counts Maverick (128 experts, MoE every second layer, no qk norm) at Meta's 400B total, 17B active", function ()
    -- 24 MoE layers (1, 3, ..., 47): 62,914,560 + router 5120 * 128 = 655,360 + 128 * 125,829,120
    --   = 16,106,127,360 + shared 125,829,120 + norms 10,240 = 16,295,536,640; x 24 = 391,092,879,360
    -- 24 dense layers: 62,914,560 + 3 * 5120 * 16384 = 251,658,240 + 10,240 = 314,583,040; x 24 = 7,549,992,960
    -- + embeddings, lm_head and norm 2,068,976,640 -> 400,711,848,960
    -- active: MoE layers 62,914,560 + 655,360 + 2 * 125,829,120 + 10,240 = 315,238,400, x 24 = 7,565,721,600;
    --   + 7,549,992,960 + 2,068,976,640 = 17,184,691,200
    local r = analyze(h.build(text({ num_local_experts = 128, interleave_moe_layer_step = 2, moe_layers = h.REMOVE,
                                     use_qk_norm = false })))
    assert.are.equal(400711848960, r.totals.params)
    assert.are.equal(17184691200, r.totals.active_params)
    -- 400.7B and 17.2B: the card's "400B" and "17B" are the text model's, truncated
    assert.are.same({ 400, 17 }, { r.totals.params // 1e9, r.totals.active_params // 1e9 })
    assert.are.same({}, r:find("qk_norm"))
  end)

  it("mirrors Llama4ForCausalLM: RoPE chunked layers and NoPE global ones, Llama4TextMoe", function ()
    local m = lmp.build(lmp.read_config(R .. NAME))
    local model = m.layers[1]
    assert.are.equal(M .. "Llama4TextModel", model.class)
    local rope, nope = model.sub_layers[2], model.sub_layers[3]
    assert.are.same({ 36, 12 }, { rope["repeat"], nope["repeat"] })
    assert.are.equal("RoPE, chunked_attention (chunk 8192), Llama4TextMoe: layers 0, 1, 2, 4, 5, 6, 8, 9, ...", rope.note)
    assert.are.equal("NoPE, full_attention, Llama4TextMoe: layers 3, 7, 11, 15, 19, 23, 27, 31, ...", nope.note)
    local function names(block)
      local out = {}
      for _, l in ipairs(block.sub_layers) do out[#out + 1] = l.name end
      return out
    end
    assert.are.same({ "q_proj", "k_proj", "v_proj", "apply_rotary_emb", "qk_norm", "past_key_value",
                      "scaled_dot_product_attention", "o_proj" }, names(rope.sub_layers[2]))
    assert.are.same({ "q_proj", "k_proj", "v_proj", "attn_temperature_tuning", "past_key_value",
                      "scaled_dot_product_attention", "o_proj" }, names(nope.sub_layers[2]))
    local moe = rope.sub_layers[5]
    assert.are.equal(M .. "Llama4TextMoe", moe.class)
    assert.are.same({ "router", "topk", "sigmoid", "routing_weight_mul", "experts", "shared_expert", "routed_add" }, names(moe))
    assert.are.same({ M .. "Llama4TextExperts", 16, 1 }, { moe.sub_layers[5].class, moe.sub_layers[5]["repeat"], moe.sub_layers[5].active })
    assert.are.equal(M .. "Llama4TextMLP", moe.sub_layers[6].class)
    assert.is_nil(m.layers[2].weights_tied_to)
  end)

  it("prices one decoder layer of each kind at batch 1, seq 128 by hand", function ()
    -- T 128, H 5120, 40 heads and 8 KV heads of d 128, one routed expert and the shared one of 8192.
    -- norms 2 * T * H * (3 + 1) = 5,242,880; residual adds 2 * T * H = 1,310,720
    -- self_attn: q, o 2 * 2 * 128 * 5120 * 5120 = 13,421,772,800; k, v 2 * 2 * 128 * 5120 * 1024 = 2,684,354,560
    --   -> 16,106,127,360; scores and values 4 * 40 * 128 * 128 * 128 = 335,544,320 (128 keys, within the
    --   chunk) and 7 a score 40 * 128 * 128 * 7 = 4,587,520
    --   RoPE layers: apply_rotary_emb 3 * 128 * 128 * 48 = 2,359,296; qk_norm (128 * 48 rows of 128) * 3
    --   = 2,359,296 -> 16,450,977,792
    --   NoPE layers: temperature tuning 6 * 128 + 128 * 40 * 128 = 656,128 -> 16,446,915,328
    -- feed_forward: router 2 * 128 * 5120 * 16 = 20,971,520; topk 128 * 16 * 1 = 2,048; sigmoid 128 * 16 * 3
    --   = 6,144; routing_weight_mul and routed_add 2 * 128 * 5120 = 1,310,720; one expert 2 * 128 * 5120 *
    --   16384 + 2 * 128 * 8192 * 5120 + 128 * 8192 * (silu 4 + mul 1) = 32,217,497,600; the shared expert
    --   3 * 2 * 128 * 5120 * 8192 + 128 * 8192 * 5 = 32,217,497,600 -> 64,457,285,632
    -- RoPE layer 80,914,817,024; NoPE layer 80,910,754,560
    local layers = analyze(scout(), nil, 2):find("^model%.layers$")
    assert.are.equal(36 * 80914817024, layers[1].flops)
    assert.are.equal(12 * 80910754560, layers[2].flops)
  end)

  it("sums the matmul FLOPs of a 128-token prefill", function ()
    -- a layer's products: 16,106,127,360 + 335,544,320 + 20,971,520 + 2 * 32,212,254,720 = 80,887,152,640;
    -- x 48 = 3,882,583,326,720; lm_head 2 * 128 * 5120 * 202048 = 264,828,354,560 -> 4,147,411,681,280; and
    -- freqs_cis once a forward, inv_freq @ position_ids: 2 * 1 * (128 / 2) * 1 * 128 = 16,384
    local rotary_tables = 16384
    assert.are.equal(3882583326720 + 264828354560 + rotary_tables, analyze(scout()).totals.matmul_flops)
  end)

  describe("decode: chunked layers read and cache at most 8192 tokens, global ones every token", function ()
    -- one token at kv_len 10000: Linear weights a token runs through 48 * (62,914,560 + 81,920 + 2 * 125,829,120)
    -- = 15,103,426,560 + lm_head 1,034,485,760 = 16,137,912,320, x 2 = 32,275,824,640; attention
    -- 4 * 40 * 128 = 20,480 FLOPs a key: 36 chunked layers at min(10000, 8191) + 1 = 8192 keys, 12 global
    -- at 10001; the rotary tables of the one new position 2 * 64 * 1 * 1 = 128; the cache 2 * 8 * 128 * 2 bytes
    -- = 4,096 bytes a token a layer
    it("beyond the chunk (kv_len 10000)", function ()
      local r = analyze(scout(), { batch_size = 1, seq_len = 1, kv_len = 10000 })
      assert.are.equal(32275824640 + 20480 * (36 * 8192 + 12 * 10001) + 128, r.totals.matmul_flops) -- 40,773,468,288
      assert.are.equal(36 * 4096 * 8192 + 12 * 4096 * 10001, r.footprint.kv_cache)         -- 1,699,528,704
    end)
    it("below it (kv_len 1000): every layer 1001 tokens", function ()
      local r = analyze(scout(), { batch_size = 1, seq_len = 1, kv_len = 1000 })
      assert.are.equal(48 * 4096 * 1001, r.footprint.kv_cache)
    end)
    it("no chunk when attention_chunk_size is null: every layer every token", function ()
      local r = analyze(h.build(text({ attention_chunk_size = lmp.core.null })), { batch_size = 1, seq_len = 1, kv_len = 10000 })
      assert.are.equal(48 * 4096 * 10001, r.footprint.kv_cache)
    end)
  end)

  it("builds the text model alone from a llama4_text config, and the defaults of empty lists", function ()
    local cfg = lmp.read_config(R .. NAME).text_config
    assert.are.equal(107769861120, analyze(h.build(cfg)).totals.params)
    -- no_rope_layers [] and moe_layers absent: every 4th layer NoPE, MoE every interleave_moe_layer_step (1)
    local m = lmp.build(text({ no_rope_layers = {}, moe_layers = h.REMOVE }))
    assert.are.same({ 36, 12 }, { m.layers[1].sub_layers[2]["repeat"], m.layers[1].sub_layers[3]["repeat"] })
    -- moe_layers [] (not null): no MoE layer, 36 RoPE and 12 NoPE dense layers
    m = lmp.build(text({ moe_layers = {} }))
    assert.are.same({ 3, "Llama4TextMLP", "Llama4TextMLP" }, { #m.layers[1].sub_layers - 2, -- less norm and rotary_emb
      m.layers[1].sub_layers[2].sub_layers[5].class:match("%.(%w+)$"), m.layers[1].sub_layers[3].sub_layers[5].class:match("%.(%w+)$") })
    -- moe_layers given: only those are MoE (layers 0 and 3: a RoPE and a NoPE one)
    m = lmp.build(text({ moe_layers = { 0, 3 } }))
    local notes = {}
    for i = 2, #m.layers[1].sub_layers - 2 do notes[#notes + 1] = m.layers[1].sub_layers[i].note:match("^[^:]*") end -- the kinds: embed_tokens before, norm and rotary_emb after
    assert.are.same({ "RoPE, chunked_attention (chunk 8192), Llama4TextMoe", "RoPE, chunked_attention (chunk 8192), Llama4TextMLP",
                      "NoPE, full_attention, Llama4TextMoe", "NoPE, full_attention, Llama4TextMLP" }, notes)
  end)

  describe("refuses bad configs, naming the field", function ()
    it("a llama4 config without its text_config", function ()
      local cfg = lmp.read_config(R .. NAME)
      cfg.text_config = nil
      assert.error_matches(build_error(cfg), "text_config: missing")
    end)
    it("a missing size, named inside text_config", function ()
      assert.error_matches(build_error(text({ intermediate_size_mlp = h.REMOVE })), "text_config: intermediate_size_mlp: missing")
    end)
    it("no_rope_layers of the wrong length", function ()
      assert.error_matches(build_error(text({ no_rope_layers = { 1, 0 } })), "no_rope_layers: expected 48 entries")
    end)
    it("moe_layers that are not layer indices", function ()
      assert.error_matches(build_error(text({ moe_layers = { 48 } })), "moe_layers: entry 1 is not a layer index")
    end)
    it("more experts per token than experts", function ()
      assert.error_matches(build_error(text({ num_experts_per_tok = 17 })), "num_experts_per_tok: 17 is more than num_local_experts")
    end)
    it("an activation the fused experts are not priced with", function ()
      assert.error_matches(build_error(text({ hidden_act = "gelu" })), "hidden_act: Llama4TextExperts is priced with silu only")
    end)
  end)
end)
