-- Gemma 3 text (transformers models/gemma3/modeling_gemma3.py, model_type "gemma3_text"):
-- Gemma3ForCausalLM = Gemma3TextModel (embed_tokens, a Gemma3TextScaledWordEmbedding that
-- scales by sqrt(hidden) itself; layers x N; norm) + lm_head tied to embed_tokens. Gemma 2's
-- layer (four Gemma3RMSNorm around attention and MLP) with q_norm and k_norm, Gemma3RMSNorm
-- over each head's head_dim values, before the rotary embedding. Five sliding-window layers
-- to one global: layer_types when the config gives it, else every sliding_window_pattern-th
-- layer (default 6) is global. Local and global layers use different rope bases
-- (rope_local_base_freq, rope_theta): Gemma3TextModel computes two tables every forward,
-- rotary_emb and rotary_emb_local (transformers 4.50 to 4.57). Gemma3Attention passes no
-- softcap to its attention function, so attn_logit_softcapping changes nothing;
-- final_logit_softcapping applies when set (null in the released configs).
-- The multimodal "gemma3" model_type (Gemma3ForConditionalGeneration, a SigLIP vision tower)
-- has no builder; its text_config is a gemma3_text config.
local llama = require "lmp.builders.llama"
local gemma2 = require "lmp.builders.gemma2"

local gemma3 = { model_types = { "gemma3_text" } }

local M = "transformers.models.gemma3.modeling_gemma3."

function gemma3.build(cfg, b)
  local s = llama.shape(cfg, { tied = true, head_dim = 256 })
  local pattern = cfg:int("sliding_window_pattern", 6)
  cfg:num("rope_local_base_freq", 10000)
  return gemma2.decoder(cfg, b, s, {
    module = M, prefix = "Gemma3", model_class = "Gemma3TextModel", qk_norm = true, rotary = { "rotary_emb", "rotary_emb_local" },
    sliding = gemma2.sliding(cfg, s.layers, function (i) return (i + 1) % pattern ~= 0 end),
    embed = { b.layer("embed_tokens", M .. "Gemma3TextScaledWordEmbedding",
                      { N = b.TOKENS, num_embeddings = s.vocab, embedding_dim = s.hidden }) },
  })
end

return gemma3
