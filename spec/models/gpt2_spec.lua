-- models/gpt2.json: openai-community/gpt2 as GPT2LMHeadModel (lm_head tied to transformer.wte).
-- Every expected figure below is derived by hand from the config numbers, written out here,
-- never read back from the program.
local lmp = require "lmp"

-- Config (spec/fixtures/configs/openai-community--gpt2.json):
-- n_embd 768, n_layer 12, n_head 12 (head_dim 64), n_positions 1024, vocab 50257,
-- n_inner null -> 4 * 768 = 3072.
local D, LAYERS, FF, VOCAB, POS = 768, 12, 3072, 50257, 1024

-- Parameters (tied lm_head counted once, as model.num_parameters() does):
--   wte                       50257 * 768                 =  38,597,376
--   wpe                       1024 * 768                  =     786,432
--   per block:
--     ln_1, ln_2              2 * (768 + 768)             =       3,072
--     attn.c_attn             768 * 2304 + 2304           =   1,771,776
--     attn.c_proj             768 * 768 + 768             =     590,592
--     mlp.c_fc                768 * 3072 + 3072           =   2,362,368
--     mlp.c_proj              3072 * 768 + 768            =   2,360,064
--                                                  sum    =   7,087,872
--   12 blocks                 12 * 7,087,872              =  85,054,464
--   ln_f                      768 + 768                   =       1,536
--   lm_head                   tied to wte                 =           0
--   total                                                 = 124,439,808
-- (nanoGPT's 123,653,376 is the same without wpe: 124,439,808 - 786,432)
local PUBLISHED_PARAMS = 124439808
local BLOCK = 2 * 2 * D + (D * 3 * D + 3 * D) + (D * D + D) + (D * FF + FF) + (FF * D + D)
local PARAMS = VOCAB * D + POS * D + LAYERS * BLOCK + 2 * D

-- Matrix weights a forward multiplies by: the four Conv1D per block (Kaplan's N) and the
-- tied lm_head, which still runs a full 768 x 50257 product.
--   12 * (768*2304 + 768*768 + 768*3072 + 3072*768) = 12 * 7,077,888 = 84,934,656
--   + 768 * 50257 = 38,597,376                                        -> 123,532,032
local CONV_WEIGHTS = LAYERS * (D * 3 * D + D * D + D * FF + FF * D)
local MATMUL_WEIGHTS = CONV_WEIGHTS + D * VOCAB

local model
local function gpt2()
  if not model then model = assert(lmp.load_model("models/gpt2.json")) end
  return model
end

describe("gpt2", function ()
  it("counts exactly the published parameters, the tied lm_head once", function ()
    assert.are.equal(7087872, BLOCK)
    assert.are.equal(PUBLISHED_PARAMS, PARAMS)
    local r = lmp.analyze(gpt2(), { batch_size = 1, seq_len = 1024, kv_len = 0 })
    assert.are.equal(PUBLISHED_PARAMS, r.totals.params)
  end)

  it("knows every module class it uses", function ()
    local r = lmp.analyze(gpt2(), { batch_size = 1, seq_len = 1024, kv_len = 0 })
    assert.are.same({}, r.unknown_modules)
  end)

  it("prices a full-context forward at the closed-form matmul FLOPs", function ()
    -- 2 * B * S * 123,532,032 + 4 * 12 layers * B * S^2 * 768 (Q K^T and P V over 12 heads of 64)
    -- B = 1, S = 1024: 252,993,601,536 + 38,654,705,664 = 291,648,307,200
    local B, S = 1, 1024
    local expected = 2 * B * S * MATMUL_WEIGHTS + 4 * LAYERS * B * S * S * D
    assert.are.equal(84934656, CONV_WEIGHTS)
    assert.are.equal(291648307200, expected)
    local r = lmp.analyze(gpt2(), { batch_size = B, seq_len = S, kv_len = 0 })
    assert.are.equal(expected, r.totals.matmul_flops)
    assert.is_true(r.totals.flops > r.totals.matmul_flops)
  end)

  it("scales with the batch: B = 4, S = 128", function ()
    -- 2 * 4 * 128 * 123,532,032 + 4 * 12 * 4 * 128^2 * 768 = 126,496,800,768 + 2,415,919,104
    local B, S = 4, 128
    local expected = 2 * B * S * MATMUL_WEIGHTS + 4 * LAYERS * B * S * S * D
    assert.are.equal(128912719872, expected)
    local r = lmp.analyze(gpt2(), { batch_size = B, seq_len = S, kv_len = 0 })
    assert.are.equal(expected, r.totals.matmul_flops)
  end)

  it("agrees with Kaplan et al. 2020 per-token forward FLOPs at n_ctx 1024", function ()
    -- Kaplan Table 1: C = 2N + 2 n_layer n_ctx d_attn = 188,743,680 for GPT-2 small, where
    -- N = 84,934,656 (non-embedding) and the context term counts only one of the two
    -- context-sized products. One decode token over 1024 keys, without the lm_head, therefore
    -- costs C + 2 * 12 * 1024 * 768 (the P V product Kaplan leaves out).
    local kaplan = 2 * 84934656 + 2 * 12 * 1024 * 768
    assert.are.equal(188743680, kaplan)
    local r = lmp.analyze(gpt2(), { batch_size = 1, seq_len = 1, kv_len = 1023 })
    local lm_head = 2 * D * VOCAB
    assert.are.equal(kaplan + 2 * LAYERS * 1024 * D, r.totals.matmul_flops - lm_head)
  end)
end)
