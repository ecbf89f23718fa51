-- transformers.models.gpt_oss.modeling_gpt_oss.GptOssRotaryEmbedding:
-- the same forward as LlamaRotaryEmbedding (inv_freq @ position_ids, then cos and sin, its tables
-- head_dim / 2 wide); the model owns one and calls it once a forward: priced by that calculator.
return {
  full_class_name = "transformers.models.gpt_oss.modeling_gpt_oss.GptOssRotaryEmbedding",
  same_as = "transformers.models.llama.modeling_llama.LlamaRotaryEmbedding",
}
