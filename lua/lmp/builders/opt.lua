-- OPT (transformers models/opt/modeling_opt.py, 4.40-4.47): OPTForCausalLM = model (OPTModel:
-- decoder (OPTDecoder: embed_tokens, embed_positions, [project_in], layers x N,
-- [final_layer_norm], [project_out])) + lm_head tied to embed_tokens. Learned positions
-- (OPTLearnedPositionalEmbedding) have max_position_embeddings + 2 rows (the offset of 2)
-- and are looked up from the attention mask's cumsum. project_in/project_out (bias-free)
-- exist only when word_embed_proj_dim differs from hidden_size; final_layer_norm only with
-- do_layer_norm_before and not _remove_final_layer_norm. OPTAttention scales q by
-- head_dim^-0.5 right after q_proj (a multiply), then attends with scale 1.
-- do_layer_norm_before (125m, 1.3b, ...): pre-norm; false (350m): each norm after its add.
-- nn.functional.dropout calls are not modules: the identity at inference, not listed.
local opt = { model_types = { "opt" } }

local M = "transformers.models.opt.modeling_opt."

function opt.build(cfg, b)
  local h = cfg:int("hidden_size")
  local ffn = cfg:int("ffn_dim")
  local layers = cfg:layers("num_hidden_layers")
  local heads = cfg:int("num_attention_heads")
  local d = cfg:divides("hidden_size", h, "num_attention_heads", heads)
  local vocab = cfg:vocab("vocab_size")
  local positions = cfg:int("max_position_embeddings")
  local proj = cfg:int("word_embed_proj_dim", h)
  local before = cfg:bool("do_layer_norm_before", true)
  local bias = cfg:bool("enable_bias", true)
  local affine = cfg:bool("layer_norm_elementwise_affine", true)
  local remove_final = cfg:bool("_remove_final_layer_norm", false)
  local tied = cfg:bool("tie_word_embeddings", true)

  local function norm(name)
    return b.layer(name, "torch.nn.modules.normalization.LayerNorm",
      { N = b.TOKENS, normalized_shape = h, elementwise_affine = affine, bias = affine })
  end

  local attention = b.block("self_attn", M .. "OPTAttention", {
    b.linear("q_proj", h, h, bias),
    b.scale("scaling", h),
    b.linear("k_proj", h, h, bias),
    b.linear("v_proj", h, h, bias),
    b.kv_cache("past_key_value", heads, d),
    b.sdpa("scaled_dot_product_attention", heads, heads, d, true),
    b.linear("out_proj", h, h, bias),
  })
  local body = {}
  local function add(l) body[#body + 1] = l end
  if before then add(norm("self_attn_layer_norm")) end
  add(attention)
  add(b.add("residual_add_attn", h))
  if not before then add(norm("self_attn_layer_norm")) end
  if before then add(norm("final_layer_norm")) end
  add(b.linear("fc1", h, ffn, bias))
  add(b.elementwise("activation_fn", b.activation_class(cfg, "activation_function", "relu"), ffn))
  add(b.linear("fc2", ffn, h, bias))
  add(b.add("residual_add_mlp", h))
  if not before then add(norm("final_layer_norm")) end

  local decoder = {
    b.embedding("embed_tokens", vocab, proj),
    b.layer("embed_positions", M .. "OPTLearnedPositionalEmbedding", {
      batch_size = "${batch_size}", seq_len = "${seq_len}", key_len = b.KEYS,
      num_embeddings = positions + 2, embedding_dim = h }),
  }
  if proj ~= h then decoder[#decoder + 1] = b.linear("project_in", proj, h, false) end
  decoder[#decoder + 1] = b.add("add_position_embeds", h)
  decoder[#decoder + 1] = b.block("layers", M .. "OPTDecoderLayer", body, layers)
  if before and not remove_final then decoder[#decoder + 1] = norm("final_layer_norm") end
  if proj ~= h then decoder[#decoder + 1] = b.linear("project_out", h, proj, false) end

  return {
    b.block("model", M .. "OPTModel", { b.block("decoder", M .. "OPTDecoder", decoder) }),
    b.lm_head("lm_head", proj, vocab, false, tied and "model.decoder.embed_tokens"),
  }
end

return opt
