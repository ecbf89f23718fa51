-- transformers.models.deepseek_v3.modeling_deepseek_v3.DeepseekV3RotaryEmbedding:
-- the same forward as LlamaRotaryEmbedding (inv_freq @ position_ids, then cos and sin); the model owns
-- one and calls it once a forward: priced by that calculator.
return {
  full_class_name = "transformers.models.deepseek_v3.modeling_deepseek_v3.DeepseekV3RotaryEmbedding",
  same_as = "transformers.models.llama.modeling_llama.LlamaRotaryEmbedding",
}
