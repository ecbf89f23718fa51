-- The Mamba 2 builder (lua/lmp/builders/mamba2.lua) on Mamba-Codestral-7B-v0.1: Mamba2Block = norm, mixer
-- (in_proj, depthwise conv1d, SiLU, the SSD scan with dt_bias / A_log / D, the recurrent state, gated norm,
-- out_proj), residual add; no attention and no KV cache. Every expected figure is derived by hand here.
local lmp = require "lmp"
local h = require "spec.helpers"

local R = h.CONFIGS
local AT_128 = h.AT_128
local edited = h.edited_config
local build_error = h.build_error

local NAME = "mistralai--Mamba-Codestral-7B-v0.1.json"
local M = "transformers.models.mamba2.modeling_mamba2."

local function analyze(inputs, depth) return lmp.analyze(lmp.load_config(R .. NAME), inputs, { depth = depth }) end

-- Mamba-Codestral-7B: hidden 4096, expand 2 -> intermediate 8192 = 128 heads of 64, state 128, 8 groups,
-- conv_kernel 4, chunk 256, 64 layers, vocab 32768, untied. conv_dim = 8192 + 2 * 8 * 128 = 10,240;
-- in_proj out = 8192 (gate) + 10,240 (x B C) + 128 (dt) = 18,560.
describe("mamba2 builder", function ()
  it("counts Mamba-Codestral-7B-v0.1 at the Hub's published 7,285,403,648", function ()
    -- per layer: in_proj 4096 * 18,560 = 76,021,760; conv1d 10,240 * 4 + 10,240 = 51,200;
    --   dt_bias, A_log, D 3 * 128 = 384; gated norm 8,192; out_proj 8192 * 4096 = 33,554,432;
    --   block norm 4,096 -> 109,640,064; x 64 = 7,016,964,096
    -- embeddings and lm_head (untied) 2 * 32768 * 4096 = 268,435,456; norm_f 4,096 -> 7,285,403,648
    local r = analyze(AT_128)
    assert.are.equal(7285403648, r.totals.params)
    assert.are.same({}, r.unknown_modules)
  end)

  it("counts mamba2-2.7b (the paper's 2.7B) with tied embeddings", function ()
    -- its transformers-format config: hidden 2560, 80 heads of 64, 1 group, state 128, 64 layers,
    -- vocab 50288 (50277 padded to a multiple of 16), tie_word_embeddings true.
    -- intermediate 5120, conv_dim 5120 + 2 * 128 = 5,376, in_proj out 5120 + 5376 + 80 = 10,576
    -- per layer: in_proj 2560 * 10,576 = 27,074,560; conv1d 5,376 * 5 = 26,880; 3 * 80 = 240;
    --   gated norm 5,120; out_proj 5120 * 2560 = 13,107,200; norm 2,560 -> 40,216,560; x 64 = 2,573,859,840
    -- embeddings 50288 * 2560 = 128,737,280 (lm_head tied); norm_f 2,560 -> 2,702,599,680 (2.70 B)
    local cfg = edited(NAME, { hidden_size = 2560, num_heads = 80, n_groups = 1, vocab_size = 50288,
                               tie_word_embeddings = true })
    assert.are.equal(2702599680, lmp.analyze(h.build(cfg), AT_128).totals.params)
  end)

  it("mirrors Mamba2Block and Mamba2Mixer", function ()
    local backbone = lmp.build(lmp.read_config(R .. NAME)).layers[1]
    local block = backbone.sub_layers[2]
    assert.are.same({ "layers", M .. "Mamba2Block", 64 }, { block.name, block.class, block["repeat"] })
    local names = {}
    for _, l in ipairs(block.sub_layers[2].sub_layers) do names[#names + 1] = l.name end
    assert.are.same({ "in_proj", "conv1d", "act", "dt_bias", "A_log", "D", "ssd", "cache_params", "norm", "out_proj" },
                    names)
    local conv = block.sub_layers[2].sub_layers[2].parameters
    assert.are.same({ 10240, 10240, 10240, 4 }, { conv.in_channels, conv.out_channels, conv.groups, conv.kernel_size })
  end)

  it("prices batch 1, seq 128 in closed form", function ()
    -- per layer, matrix products: in_proj 2 * 128 * 4096 * 18,560 = 19,461,570,560; out_proj
    --   2 * 128 * 8192 * 4096 = 8,589,934,592; conv1d over 128 + 3 outputs (padding 3 each side, the
    --   first 128 kept) 2 * 10,240 * 131 * 4 = 10,731,520; the SSD, 128 tokens padded to one chunk of 256,
    --   2 * 128 heads * (256*256*128 + 256*256*64 + 2*256*64*128 + (1+1)^2*64*128) = 256 * 16,809,984
    --   = 4,303,355,904 -> 32,365,592,576; x 64 = 2,071,397,924,864
    -- lm_head 2 * 128 * 4096 * 32768 = 34,359,738,368; the rotary-table term: 0 (no rotary embedding)
    -- total 2,105,757,663,232
    assert.are.equal(2105757663232, analyze(AT_128).totals.matmul_flops)
  end)

  it("prices one layer's prefill by hand", function ()
    -- 128 tokens: norm 4 * 128 * 4096 = 2,097,152; in_proj 19,461,570,560; conv1d 10,731,520 + bias
    --   10,240 * 131 = 12,072,960; SiLU 4 * 128 * 10,240 = 5,242,880;
    --   SSD 4,303,355,904 + elementwise 128 heads * (128 * (7 + 64) + 256 * (4 + 5*256 + 128 + 4*64) + 4 * 2^2)
    --   = 128 * 436,112 = 55,822,336 -> 4,359,178,240; gated norm 9 * 128 * 8192 = 9,437,184;
    --   out_proj 8,589,934,592; residual add 128 * 4096 = 524,288
    -- total 32,440,057,856
    local layers = analyze(AT_128, 2):find("^backbone%.layers$")[1]
    assert.are.equal(32440057856 * 64, layers.flops)
  end)

  it("prices one layer's decode step by hand, the same over any context", function ()
    -- 1 token over a cache: norm 4 * 4096 = 16,384; in_proj 2 * 4096 * 18,560 = 152,043,520;
    --   conv1d over the cached window, 2 * 10,240 * 4 + bias 10,240 = 92,160; SiLU 4 * 10,240 = 40,960;
    --   SSD one recurrence step, 128 heads * (bmm 2 * 64 * 128 + 8 * 64 + 6 * 64 * 128) = 2,097,152 + 6,356,992
    --   = 8,454,144; gated norm 9 * 8192 = 73,728; out_proj 2 * 8192 * 4096 = 67,108,864; add 4,096
    -- total 227,833,856
    for _, kv in ipairs({ 1, 4095, 1000000 }) do
      local layers = analyze({ batch_size = 1, seq_len = 1, kv_len = kv }, 2):find("^backbone%.layers$")[1]
      assert.are.equal(227833856 * 64, layers.flops)
    end
  end)

  it("generates at the same cost a step whatever the prompt", function ()
    -- 30 new tokens: 29 decode steps, each: 64 layers * matrix products 152,043,520 (in_proj) + 81,920 (conv1d)
    --   + 2,097,152 (the SSD's bmm) + 67,108,864 (out_proj) = 64 * 221,331,456 = 14,165,213,184, + lm_head
    --   2 * 4096 * 32768 = 268,435,456 -> 14,433,648,640; x 29 = 418,575,810,560, at prompt 128 as at 4096
    for _, prompt in ipairs({ 128, 4096 }) do
      local r = lmp.generate((lmp.load_config(R .. NAME)), { prompt_len = prompt, new_tokens = 30 })
      assert.are.equal(418575810560, r.steps.decode.matmul_flops)
      assert.are.equal(139460608, r.footprint.kv_cache)
    end
  end)

  it("holds a state of fixed size in place of a KV cache", function ()
    -- per layer: conv state 10,240 * 4 = 40,960 and SSM state 128 * 64 * 128 = 1,048,576 values, at
    -- kv_bits 16: 2,179,072 B; x 64 = 139,460,608 B, whatever the context; batch 4 at 8 bits:
    -- 4 * 1,089,536 * 1 B * 64 = 278,921,216
    assert.are.equal(139460608, analyze(AT_128).footprint.kv_cache)
    assert.are.equal(139460608, analyze({ batch_size = 1, seq_len = 1, kv_len = 100000 }).footprint.kv_cache)
    assert.are.equal(278921216, analyze({ batch_size = 4, seq_len = 1, kv_len = 10, kv_bits = 8 }).footprint.kv_cache)
  end)

  it("reads the config as transformers writes it, time_step_limit [0.0, Infinity] included", function ()
    -- Python's json writes float("inf") as Infinity (not JSON): the fixture holds the field as published
    local cfg = lmp.read_config(R .. NAME)
    assert.are.same({ 0.0, math.huge }, cfg.time_step_limit)
  end)

  it("refuses a bad field, naming it", function ()
    assert.error_matches(build_error(edited(NAME, { num_heads = 100 })),
      "num_heads: 100 heads of head_dim 64 are not expand %* hidden_size = 8192")
    assert.error_matches(build_error(edited(NAME, { n_groups = 3 })), "num_heads: 128 is not a multiple of n_groups")
    assert.error_matches(build_error(edited(NAME, { expand = 1.5001 })), "expand: ")
    assert.error_matches(build_error(edited(NAME, { state_size = h.REMOVE })), "state_size: missing")
  end)
end)
