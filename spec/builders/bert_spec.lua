-- The BERT builder (lua/lmp/builders/bert.lua) on bert-base-uncased: the config's architectures
-- picks BertForMaskedLM (its reference config) or BertModel with the pooler.
-- Every expected figure is derived by hand in the comments.
local lmp = require "lmp"
local h = require "spec.helpers"

local R = h.CONFIGS
local NAME = "google-bert--bert-base-uncased.json"
local AT_128 = { batch_size = 1, seq_len = 128, kv_len = 0 }
local REMOVE = h.REMOVE

local function analyze(model, inputs) return lmp.analyze(model, inputs or AT_128) end
local function edited(changes) return h.edited_config(NAME, changes) end
local build = h.build
local build_error = h.build_error
local function names(layers)
  local out = {}
  for _, l in ipairs(layers) do out[#out + 1] = l.name end
  return out
end

-- Hand derivation (hidden 768, 12 layers, 12 heads of 64, intermediate 3072, vocab 30522,
-- 512 positions, 2 token types):
--   embeddings: word 30522 * 768 = 23,440,896; token_type 2 * 768 = 1,536; position 512 * 768
--     = 393,216; LayerNorm 1,536 -> 23,837,184
--   per layer: query, key, value 3 * (768 * 768 + 768) = 1,771,776; attention.output.dense 590,592;
--     LayerNorm 1,536; intermediate.dense 768 * 3072 + 3072 = 2,362,368; output.dense
--     3072 * 768 + 768 = 2,360,064; LayerNorm 1,536 -> 7,087,872; x 12 = 85,054,464
--   BertModel without pooler 108,891,648
--   pooler.dense 590,592                                     -> BertModel 109,482,240
--   MLM head: transform.dense 590,592, LayerNorm 1,536, bias 30,522 (decoder tied) = 622,650
--                                                            -> BertForMaskedLM 109,514,298
local BERT_MODEL = { architectures = { "BertModel" } }

describe("bert builder", function ()
  it("builds BertForMaskedLM from the reference config: 109,514,298", function ()
    local r = analyze((lmp.load_config(R .. NAME)))
    assert.are.equal(109514298, r.totals.params)
    assert.are.same({}, r.unknown_modules)
  end)

  it("builds BertModel with its pooler when architectures says so: 109,482,240", function ()
    local r = analyze(build(edited(BERT_MODEL)))
    assert.are.equal(109482240, r.totals.params)
    assert.are.same({}, r.unknown_modules)
    -- and without architectures at all
    assert.are.equal(109482240, analyze(build(edited({ architectures = REMOVE }))).totals.params)
  end)

  it("mirrors BertForMaskedLM's tree", function ()
    local m = lmp.build(lmp.read_config(R .. NAME))
    assert.are.same({ "bert", "cls" }, names(m.layers))
    assert.are.same({ "embeddings", "encoder" }, names(m.layers[1].sub_layers))
    local predictions = m.layers[2].sub_layers[1]
    assert.are.equal("transformers.models.bert.modeling_bert.BertLMPredictionHead", predictions.class)
    assert.are.same({ "transform", "decoder", "bias" }, names(predictions.sub_layers))
    assert.are.same({ "dense", "transform_act_fn", "LayerNorm" }, names(predictions.sub_layers[1].sub_layers))
    assert.are.equal("bert.embeddings.word_embeddings", predictions.sub_layers[2].weights_tied_to)
    assert.are.equal("torch.nn.parameter.Parameter", predictions.sub_layers[3].class)
    local self = m.layers[1].sub_layers[2].sub_layers[1].sub_layers[1].sub_layers[1]
    assert.are.same({ "query", "key", "value", "scaled_dot_product_attention", "dropout" }, names(self.sub_layers))
    -- bidirectional over this step's tokens, no mask
    assert.are.equal("${seq_len}", self.sub_layers[4].parameters.key_len)
    assert.is_false(self.sub_layers[4].parameters.masked)
  end)

  it("prices batch 1, seq 128 in closed form", function ()
    -- encoder Linear weights 12 * (4 * 768*768 + 768*3072 + 3072*768) = 12 * 7,077,888 = 84,934,656
    -- attention 4 * 12 layers * 12 heads * 64 * 128 * 128 = 603,979,776
    -- BertForMaskedLM: + transform.dense 589,824 + decoder 768 * 30522 = 23,440,896 on every token
    --   (84,934,656 + 589,824 + 23,440,896) * 2 * 128 = 108,965,376 * 256 = 27,895,136,256
    --   + 603,979,776 = 28,499,116,032
    assert.are.equal(28499116032, analyze((lmp.load_config(R .. NAME))).totals.matmul_flops)
    -- BertModel: 84,934,656 * 256 = 21,743,271,936 + 603,979,776 + pooler on the first token
    --   2 * 1 * 768 * 768 = 1,179,648 -> 22,348,431,360
    assert.are.equal(22348431360, analyze(build(edited(BERT_MODEL))).totals.matmul_flops)
  end)

  it("agrees with the hand-written models/bert-base-uncased.json (BertModel)", function ()
    local a, b = analyze(build(edited(BERT_MODEL))), analyze("models/bert-base-uncased.json")
    assert.are.equal(b.totals.params, a.totals.params)
    assert.are.equal(b.totals.matmul_flops, a.totals.matmul_flops)
  end)

  it("counts an untied decoder with its own weight and bias", function ()
    -- 108,891,648 + transform 590,592 + 1,536 + decoder 768 * 30522 + 30522 = 23,471,418 -> 132,955,194
    local m = lmp.build(edited({ tie_word_embeddings = false }))
    assert.are.same({ "transform", "decoder" }, names(m.layers[2].sub_layers[1].sub_layers))
    assert.are.equal(132955194, analyze(build(edited({ tie_word_embeddings = false }))).totals.params)
  end)

  it("refuses a decode step and a generation: an encoder-only model has neither", function ()
    local m = lmp.load_config(R .. NAME)
    assert.is_true(m.encoder_only)
    assert.error_matches(function () analyze(m, { seq_len = 1, kv_len = 127 }) end,
      "bert%-base%-uncased.json has no decode step .*: phase decode does not apply")
    assert.error_matches(function () analyze(m, { seq_len = 8, kv_len = 3, phase = "prefill" }) end,
      "a prefill after 3 cached tokens does not apply")
    assert.error_matches(function () lmp.generate(m, { prompt_len = 8, new_tokens = 2 }) end,
      "has no decode step .*: phase generate does not apply")
    -- prefill and train still run
    assert.is_true(analyze(m).complete)
    assert.is_true(analyze(m, { seq_len = 16, phase = "train" }).complete)
  end)

  it("marks the built model, its export and the bundled file encoder_only", function ()
    assert.is_true(lmp.load_model("models/bert-base-uncased.json").encoder_only)
    assert.matches('"encoder_only": true', lmp.model_json(lmp.build(lmp.read_config(R .. NAME))), 1, true)
    local out, err, code = h.run("analyze", "models/bert-base-uncased.json", "--phase", "decode", "--kv-len", "5")
    assert.are.equal(2, code)
    assert.are.equal("", out)
    assert.are.equal("lmp: google-bert/bert-base-uncased has no decode step (encoder_only: no KV cache, nothing to " ..
      "generate): phase decode does not apply to it, only prefill and train\n", err)
    assert.is_false(lmp.load_model("models/llama-2-7b-hf.json").encoder_only)
  end)

  describe("refuses, naming the field,", function ()
    it("a missing field", function ()
      assert.error_matches(build_error(edited({ num_attention_heads = REMOVE })), "num_attention_heads: missing")
    end)
    it("a wrong type", function ()
      assert.error_matches(build_error(edited({ intermediate_size = "3072" })),
        'intermediate_size: expected an integer, got "3072"')
    end)
    it("an absurd size", function ()
      assert.error_matches(build_error(edited({ vocab_size = 1 << 40 })), "vocab_size: .* is beyond")
    end)
    it("an architecture it does not build", function ()
      assert.error_matches(build_error(edited({ architectures = { "BertForSequenceClassification" } })),
        'architectures: "BertForSequenceClassification" is not supported')
    end)
    it("relative position embeddings", function ()
      assert.error_matches(build_error(edited({ position_embedding_type = "relative_key" })),
        'position_embedding_type: "relative_key" is not supported')
    end)
  end)
end)
