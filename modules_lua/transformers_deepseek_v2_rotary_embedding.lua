-- transformers.models.deepseek_v2.modeling_deepseek_v2.DeepseekV2RotaryEmbedding:
-- V2's forward builds freqs_cis (inv_freq @ position_ids, then torch.polar): the matmul and cos/sin as
-- Llama's; the model owns one and calls it once a forward: priced by that calculator.
return {
  full_class_name = "transformers.models.deepseek_v2.modeling_deepseek_v2.DeepseekV2RotaryEmbedding",
  same_as = "transformers.models.llama.modeling_llama.LlamaRotaryEmbedding",
}
