-- BERT (transformers models/bert/modeling_bert.py, 4.40-4.47). The config's "architectures"
-- picks the model: "BertForMaskedLM" builds bert (BertModel without its pooler) + cls
-- (BertOnlyMLMHead: predictions = transform (dense, act, LayerNorm) and a decoder tied to
-- bert.embeddings.word_embeddings whose bias is the head's own `bias` Parameter, vocab_size
-- values); "BertModel" (or no architectures) builds BertModel with its pooler (dense + tanh
-- on each sequence's first token). The encoder attends bidirectionally over the seq_len
-- tokens of this step (no KV cache, no mask once every token is real); absolute position
-- embeddings only. Base class names (4.41-4.47 instantiate BertSdpaSelfAttention, the same work).
-- encoder_only: the model it builds has no decode step and generates nothing (lmp.analyze refuses
-- decode and generate for it)
local bert = { model_types = { "bert" }, encoder_only = true }

local M = "transformers.models.bert.modeling_bert."

bert.ARCHITECTURES = { "BertModel", "BertForMaskedLM" }

-- architecture(cfg) -> "BertModel" | "BertForMaskedLM" from the config's architectures list
function bert.architecture(cfg)
  local archs = cfg.raw.architectures
  if archs == nil or archs == require("lmp.core").null then return "BertModel" end
  if type(archs) ~= "table" or type(archs[1]) ~= "string" then
    cfg:fail("architectures", "expected a list of class names")
  end
  for _, a in ipairs(bert.ARCHITECTURES) do
    if archs[1] == a then return a end
  end
  cfg:fail("architectures", ('"%s" is not supported (supported: %s)'):format(archs[1], table.concat(bert.ARCHITECTURES, ", ")))
end

function bert.build(cfg, b)
  local arch = bert.architecture(cfg)
  local h = cfg:int("hidden_size")
  local inter = cfg:int("intermediate_size")
  local layers = cfg:layers("num_hidden_layers")
  local heads = cfg:int("num_attention_heads")
  local d = cfg:divides("hidden_size", h, "num_attention_heads", heads)
  local vocab = cfg:vocab("vocab_size")
  local positions = cfg:int("max_position_embeddings")
  local types = cfg:int("type_vocab_size", 2)
  cfg:str("position_embedding_type", "absolute", { "absolute" })
  local act = b.activation_class(cfg, "hidden_act", "gelu")
  local tied = cfg:bool("tie_word_embeddings", true)
  local scores = ("${batch_size} * %d * ${seq_len} * ${seq_len}"):format(heads)

  -- BertSelfOutput and BertOutput: LayerNorm(dropout(dense(x)) + the block's input)
  local function output(class, width)
    return b.block("output", M .. class, {
      b.linear("dense", width, h, true),
      b.dropout("dropout", h),
      b.add("residual_add", h),
      b.layer_norm("LayerNorm", h, true),
    })
  end

  local layer = b.block("layer", M .. "BertLayer", {
    b.block("attention", M .. "BertAttention", {
      b.block("self", M .. "BertSelfAttention", {
        b.linear("query", h, h, true),
        b.linear("key", h, h, true),
        b.linear("value", h, h, true),
        b.sdpa("scaled_dot_product_attention", heads, heads, d, false, "${seq_len}", "${seq_len}"),
        b.layer("dropout", "torch.nn.modules.dropout.Dropout", { numel = scores }),
      }),
      output("BertSelfOutput", h),
    }),
    b.block("intermediate", M .. "BertIntermediate", {
      b.linear("dense", h, inter, true),
      b.elementwise("intermediate_act_fn", act, inter),
    }),
    output("BertOutput", inter),
  }, layers)

  local model = {
    b.block("embeddings", M .. "BertEmbeddings", {
      b.embedding("word_embeddings", vocab, h),
      b.embedding("token_type_embeddings", types, h),
      b.add("add_token_type_embeddings", h),
      b.embedding("position_embeddings", positions, h),
      b.add("add_position_embeddings", h),
      b.layer_norm("LayerNorm", h, true),
      b.dropout("dropout", h),
    }),
    b.block("encoder", M .. "BertEncoder", { layer }),
  }
  if arch == "BertModel" then
    model[#model + 1] = b.block("pooler", M .. "BertPooler", {
      b.linear("dense", h, h, true, "${batch_size}"),
      b.elementwise("activation", "torch.nn.modules.activation.Tanh", h, "${batch_size}"),
    })
    return model
  end

  local predictions = {
    b.block("transform", M .. "BertPredictionHeadTransform", {
      b.linear("dense", h, h, true),
      b.elementwise("transform_act_fn", act, h),
      b.layer_norm("LayerNorm", h, true),
    }),
    -- every position (BertForMaskedLM has no logits_to_keep)
    b.lm_head("decoder", h, vocab, true, tied and "bert.embeddings.word_embeddings", b.TOKENS),
  }
  -- tied, the decoder counts no parameters: its bias is the head's `bias` Parameter
  if tied then predictions[#predictions + 1] = b.layer("bias", "torch.nn.parameter.Parameter", { numel = vocab }) end
  return {
    b.block("bert", M .. "BertModel", model),
    b.block("cls", M .. "BertOnlyMLMHead", {
      b.block("predictions", M .. "BertLMPredictionHead", predictions),
    }),
  }
end

return bert
