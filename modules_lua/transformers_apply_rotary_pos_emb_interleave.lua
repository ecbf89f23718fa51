-- transformers.models.deepseek_v3.modeling_deepseek_v3.apply_rotary_pos_emb_interleave: DeepSeek-V3's
-- rotary (rope_interleave, the config default): q and k reordered from interleaved pairs to halves (a
-- view, transpose and reshape: a copy, no arithmetic), then Llama's q*cos + rotate_half(q)*sin: priced
-- by that calculator.
return {
  full_class_name = "transformers.models.deepseek_v3.modeling_deepseek_v3.apply_rotary_pos_emb_interleave",
  same_as = "transformers.models.llama.modeling_llama.apply_rotary_pos_emb",
}
