-- models/llama-2-7b-hf.json: meta-llama/Llama-2-7b-hf as LlamaForCausalLM (transformers 4.31's tree,
-- with the model's rotary_emb of 4.48 on, which computes the cos/sin tables once a forward).
-- Every expected figure below is derived by hand from the config numbers, written out here,
-- never read back from the program.
local lmp = require "lmp"

-- Config (spec/fixtures/configs/meta-llama--Llama-2-7b-hf.json)
local HIDDEN, INTER, LAYERS, VOCAB = 4096, 11008, 32, 32000  -- 32 heads of 128, 32 KV heads, no biases

-- Parameters, as model.num_parameters() counts them (rotary cos/sin tables are buffers):
--   embed_tokens                      32000 * 4096              =   131,072,000
--   per decoder layer:
--     q_proj, k_proj, v_proj, o_proj  4 * 4096 * 4096           =    67,108,864
--     gate_proj, up_proj, down_proj   3 * 4096 * 11008          =   135,266,304
--     input_/post_attention_layernorm 2 * 4096                  =         8,192
--                                                        sum    =   202,383,360
--   32 layers                         32 * 202,383,360          = 6,476,267,520
--   model.norm                        4096                      =         4,096
--   lm_head (untied)                  4096 * 32000              =   131,072,000
--   total                                                       = 6,738,415,616
-- (the reference's non-embedding figure 6,476,271,616 = layers + final norm)
local PUBLISHED_PARAMS = 6738415616

-- Weights of every Linear (the matrices a forward multiplies by), lm_head included:
--   32 * (4 * 4096^2 + 3 * 4096 * 11008) + 4096 * 32000
--   = 32 * 202,375,168 + 131,072,000 = 6,607,077,376
local LINEAR_WEIGHTS = LAYERS * (4 * HIDDEN * HIDDEN + 3 * HIDDEN * INTER) + HIDDEN * VOCAB
-- rotary_emb: inv_freq (64 entries) @ position_ids, 2 * B * 64 * S = B * S * 128 matmul FLOPs
local HEAD_DIM = 128

local model
local function llama()
  if not model then model = assert(lmp.load_model("models/llama-2-7b-hf.json")) end
  return model
end

describe("Llama-2-7b-hf", function ()
  it("counts exactly the published parameters", function ()
    assert.are.equal(6607077376, LINEAR_WEIGHTS)  -- the arithmetic above, checked
    local r = lmp.analyze(llama(), { batch_size = 1, seq_len = 2048, kv_len = 0 })
    assert.are.equal(PUBLISHED_PARAMS, r.totals.params)
  end)

  it("knows every module class it uses", function ()
    local r = lmp.analyze(llama(), { batch_size = 1, seq_len = 2048, kv_len = 0 })
    assert.are.same({}, r.unknown_modules)
  end)

  it("prices a 2048-token prefill at the closed-form matmul FLOPs", function ()
    local B, S = 1, 2048
    -- Linear layers: 2 FLOPs per multiply-add on each of the B*S rows:
    --   2 * 2048 * 6,607,077,376 = 27,062,588,932,096
    -- attention: Q K^T and P V, each 2 * S * S * head_dim per head, 32 heads = hidden:
    --   4 * 32 layers * 1 * 2048^2 * 4096 = 2,199,023,255,552
    -- rotary_emb: 1 * 2048 * 128 = 262,144
    -- total 29,261,612,449,792
    local expected = 2 * B * S * LINEAR_WEIGHTS + 4 * LAYERS * B * S * S * HIDDEN + B * S * HEAD_DIM
    assert.are.equal(29261612449792, expected)
    local r = lmp.analyze(llama(), { batch_size = B, seq_len = S, kv_len = 0 })
    assert.are.equal(expected, r.totals.matmul_flops)
    assert.is_true(r.totals.flops > r.totals.matmul_flops)
  end)

  it("prices one decode step over a 2047-token cache", function ()
    -- one new token attends over kv_len + seq_len = 2048 keys:
    --   2 * 1 * 6,607,077,376 + 4 * 32 * 1 * 1 * 2048 * 4096 + rotary 1 * 128
    --   = 13,214,154,752 + 1,073,741,824 + 128
    local expected = 2 * 1 * LINEAR_WEIGHTS + 4 * 32 * 1 * 1 * 2048 * 4096 + HEAD_DIM
    assert.are.equal(14287896704, expected)
    local r = lmp.analyze(llama(), { batch_size = 1, seq_len = 1, kv_len = 2047 })
    assert.are.equal(expected, r.totals.matmul_flops)
    assert.is_true(r.totals.flops > r.totals.matmul_flops)
  end)

  it("reads at least every Linear weight and the whole KV cache in a decode step", function ()
    -- At 16 bits a weight is 2 bytes. Each basic layer reads its weights once per call and
    -- no fusion is assumed, so one decode step reads at least every Linear weight matrix:
    --   2 bytes * 6,607,077,376 = 13,214,154,752 bytes
    -- (the embedding table is left out of the bound: a gather need only read the rows it picks).
    -- Attention reads K and V for all 2048 positions in each of the 32 layers:
    --   2 (K and V) * 32 layers * 2048 positions * 4096 * 2 bytes = 1,073,741,824 bytes.
    -- Activations of a single token are small (a few MB over the whole model), so the total
    -- may not exceed all weights (2 * params bytes) + the KV cache by more than 64 MiB.
    local weight_bytes = 2 * LINEAR_WEIGHTS
    local kv_bytes = 2 * LAYERS * 2048 * HIDDEN * 2
    assert.are.equal(13214154752, weight_bytes)
    assert.are.equal(1073741824, kv_bytes)
    local r = lmp.analyze(llama(), { batch_size = 1, seq_len = 1, kv_len = 2047 })
    assert.is_true(r.totals.reads_bytes >= weight_bytes + kv_bytes,
      "reads_bytes " .. tostring(r.totals.reads_bytes) .. " < " .. tostring(weight_bytes + kv_bytes))
    assert.is_true(r.totals.reads_bytes <= 2 * PUBLISHED_PARAMS + kv_bytes + 64 * 1024 * 1024,
      "reads_bytes " .. tostring(r.totals.reads_bytes) .. " is far above weights + KV cache")
  end)
end)
