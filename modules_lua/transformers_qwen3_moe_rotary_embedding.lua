-- transformers.models.qwen3_moe.modeling_qwen3_moe.Qwen3MoeRotaryEmbedding:
-- the same forward as LlamaRotaryEmbedding (inv_freq @ position_ids, then cos and sin; transformers
-- copies it), with the same parameters: priced by that calculator.
return {
  full_class_name = "transformers.models.qwen3_moe.modeling_qwen3_moe.Qwen3MoeRotaryEmbedding",
  same_as = "transformers.models.llama.modeling_llama.LlamaRotaryEmbedding",
}
