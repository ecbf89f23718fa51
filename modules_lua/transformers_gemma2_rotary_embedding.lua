-- transformers.models.gemma2.modeling_gemma2.Gemma2RotaryEmbedding:
-- the same forward as LlamaRotaryEmbedding (inv_freq @ position_ids, then cos and sin; transformers
-- copies it), with the same parameters: priced by that calculator.
return {
  full_class_name = "transformers.models.gemma2.modeling_gemma2.Gemma2RotaryEmbedding",
  same_as = "transformers.models.llama.modeling_llama.LlamaRotaryEmbedding",
}
