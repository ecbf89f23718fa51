-- transformers.models.qwen2_moe.modeling_qwen2_moe.Qwen2MoeRotaryEmbedding:
-- the same forward as LlamaRotaryEmbedding (inv_freq @ position_ids, then cos and sin; transformers
-- copies it), with the same parameters: priced by that calculator.
return {
  full_class_name = "transformers.models.qwen2_moe.modeling_qwen2_moe.Qwen2MoeRotaryEmbedding",
  same_as = "transformers.models.llama.modeling_llama.LlamaRotaryEmbedding",
}
