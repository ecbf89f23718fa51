-- GPT-2 (transformers models/gpt2/modeling_gpt2.py, 4.40-4.47): GPT2LMHeadModel =
-- transformer (GPT2Model: wte, wpe, h x n_layer, ln_f) + lm_head tied to transformer.wte.
-- Every projection is a Conv1D (a transposed Linear, always with a bias): c_attn makes q, k
-- and v in one product, c_proj projects back; the MLP is c_fc, the activation (gelu_new:
-- NewGELUActivation), c_proj. Token and position embeddings are added before the dropout.
-- scale_attn_weights / scale_attn_by_inverse_layer_idx / reorder_and_upcast_attn change
-- the score scaling or its precision, not the count; cross-attention is not built.
-- Class names are the base classes (4.40-4.47 instantiate the GPT2SdpaAttention subclass by
-- default, which computes the same; 4.48 folded it back into GPT2Attention).
local gpt2 = { model_types = { "gpt2" } }

local M = "transformers.models.gpt2.modeling_gpt2."
local CONV1D = "transformers.pytorch_utils.Conv1D"

local function conv1d(b, name, nx, nf)
  return b.layer(name, CONV1D, { N = b.TOKENS, nx = nx, nf = nf })
end

function gpt2.build(cfg, b)
  local h = cfg:int("n_embd")
  local layers = cfg:layers("n_layer")
  local heads = cfg:int("n_head")
  local d = cfg:divides("n_embd", h, "n_head", heads)
  local positions = cfg:int("n_positions")
  local vocab = cfg:vocab("vocab_size")
  local inner = cfg:int("n_inner", 4 * h)
  local tied = cfg:bool("tie_word_embeddings", true)
  if cfg:bool("add_cross_attention", false) then
    cfg:fail("add_cross_attention", "cross-attention blocks (GPT-2 as a decoder of an encoder-decoder) are not supported")
  end

  local block = b.block("h", M .. "GPT2Block", {
    b.layer_norm("ln_1", h, true),
    b.block("attn", M .. "GPT2Attention", {
      conv1d(b, "c_attn", h, 3 * h),
      b.kv_cache("layer_past", heads, d),
      b.sdpa("scaled_dot_product_attention", heads, heads, d, true),
      b.layer("attn_dropout", "torch.nn.modules.dropout.Dropout", { numel = b.scores(heads) }),
      conv1d(b, "c_proj", h, h),
      b.dropout("resid_dropout", h),
    }),
    b.add("residual_add_attn", h),
    b.layer_norm("ln_2", h, true),
    b.block("mlp", M .. "GPT2MLP", {
      conv1d(b, "c_fc", h, inner),
      b.elementwise("act", b.activation_class(cfg, "activation_function", "gelu_new"), inner),
      conv1d(b, "c_proj", inner, h),
      b.dropout("dropout", h),
    }),
    b.add("residual_add_mlp", h),
  }, layers)

  return {
    b.block("transformer", M .. "GPT2Model", {
      b.embedding("wte", vocab, h),
      b.embedding("wpe", positions, h),
      b.add("add_position_embeds", h),
      b.dropout("drop", h),
      block,
      b.layer_norm("ln_f", h, true),
    }),
    b.lm_head("lm_head", h, vocab, false, tied and "transformer.wte"),
  }
end

return gpt2
