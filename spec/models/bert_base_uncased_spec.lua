-- models/bert-base-uncased.json: bert-base-uncased as BertModel with its pooler.
-- Every expected figure below is derived by hand from the config numbers, written out here,
-- never read back from the program.
local lmp = require "lmp"

-- Config (spec/fixtures/configs/google-bert--bert-base-uncased.json):
-- hidden 768, intermediate 3072, 12 layers, 12 heads (head_dim 64), vocab 30522,
-- max_position_embeddings 512, type_vocab_size 2. Every Linear has a bias.
local D, FF, LAYERS, VOCAB, POS, TYPES = 768, 3072, 12, 30522, 512, 2

-- Parameters of BertModel (the reference's 109,482,240):
--   embeddings.word_embeddings        30522 * 768              =  23,440,896
--   embeddings.position_embeddings    512 * 768                =     393,216
--   embeddings.token_type_embeddings  2 * 768                  =       1,536
--   embeddings.LayerNorm              768 + 768                =       1,536
--   per encoder layer:
--     attention.self.query/key/value  3 * (768 * 768 + 768)    =   1,771,776
--     attention.output.dense          768 * 768 + 768          =     590,592
--     attention.output.LayerNorm      768 + 768                =       1,536
--     intermediate.dense              768 * 3072 + 3072        =   2,362,368
--     output.dense                    3072 * 768 + 768         =   2,360,064
--     output.LayerNorm                768 + 768                =       1,536
--                                                       sum    =   7,087,872
--   12 layers                         12 * 7,087,872           =  85,054,464
--   pooler.dense                      768 * 768 + 768          =     590,592
--   total                                                      = 109,482,240
local PUBLISHED_PARAMS = 109482240
local LAYER = 4 * (D * D + D) + (D * FF + FF) + (FF * D + D) + 2 * 2 * D
local PARAMS = (VOCAB + POS + TYPES) * D + 2 * D + LAYERS * LAYER + (D * D + D)

-- Linear weights applied to every token: 12 * (4 * 768^2 + 2 * 768 * 3072) = 84,934,656.
-- The pooler's dense runs on the first token of each sequence only: 768^2 per sequence.
local TOKEN_WEIGHTS = LAYERS * (4 * D * D + 2 * D * FF)

local model
local function bert()
  if not model then model = assert(lmp.load_model("models/bert-base-uncased.json")) end
  return model
end

local function closed_form(B, S)
  -- 2 FLOPs per multiply-add; attention Q K^T and P V: 4 * layers * B * S^2 * hidden
  return 2 * B * S * TOKEN_WEIGHTS + 2 * B * D * D + 4 * LAYERS * B * S * S * D
end

describe("bert-base-uncased", function ()
  it("counts exactly the published parameters", function ()
    assert.are.equal(7087872, LAYER)
    assert.are.equal(PUBLISHED_PARAMS, PARAMS)
    local r = lmp.analyze(bert(), { batch_size = 1, seq_len = 512, kv_len = 0 })
    assert.are.equal(PUBLISHED_PARAMS, r.totals.params)
  end)

  it("knows every module class it uses", function ()
    local r = lmp.analyze(bert(), { batch_size = 1, seq_len = 512, kv_len = 0 })
    assert.are.same({}, r.unknown_modules)
  end)

  it("prices a 512-token sequence at the closed-form matmul FLOPs", function ()
    -- 2 * 512 * 84,934,656 + 2 * 768^2 + 4 * 12 * 512^2 * 768
    -- = 86,973,087,744 + 1,179,648 + 9,663,676,416 = 96,637,943,808
    assert.are.equal(84934656, TOKEN_WEIGHTS)
    assert.are.equal(96637943808, closed_form(1, 512))
    local r = lmp.analyze(bert(), { batch_size = 1, seq_len = 512, kv_len = 0 })
    assert.are.equal(closed_form(1, 512), r.totals.matmul_flops)
    assert.is_true(r.totals.flops > r.totals.matmul_flops)
  end)

  it("runs the pooler once per sequence: B = 8, S = 128", function ()
    -- 2 * 8 * 128 * 84,934,656 + 2 * 8 * 768^2 + 4 * 12 * 8 * 128^2 * 768 = 178,787,450,880
    assert.are.equal(178787450880, closed_form(8, 128))
    local r = lmp.analyze(bert(), { batch_size = 8, seq_len = 128, kv_len = 0 })
    assert.are.equal(closed_form(8, 128), r.totals.matmul_flops)
    assert.is_true(r.totals.flops > r.totals.matmul_flops)
  end)
end)
