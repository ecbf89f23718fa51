-- transformers.models.deepseek_v2.modeling_deepseek_v2.apply_rotary_emb: DeepSeek-V2's rotary as a
-- complex multiply, view_as_complex(x) * freqs_cis over pairs of values: 4 multiplies and 2 adds a
-- pair, 3 FLOPs a value as Llama's q*cos + rotate_half(q)*sin; its one complex64 table of seq x d/2 is
-- as many bytes as Llama's cos and sin at 16 bits: priced by that calculator.
return {
  full_class_name = "transformers.models.deepseek_v2.modeling_deepseek_v2.apply_rotary_emb",
  same_as = "transformers.models.llama.modeling_llama.apply_rotary_pos_emb",
}
