-- transformers.models.deepseek_v2.modeling_deepseek_v2.DeepseekV2RMSNorm: the same computation as
-- LlamaRMSNorm (weight * x * rsqrt(mean(x^2) + eps), no bias, no mean subtraction), with the same
-- parameters: priced by that calculator.
return {
  full_class_name = "transformers.models.deepseek_v2.modeling_deepseek_v2.DeepseekV2RMSNorm",
  same_as = "transformers.models.llama.modeling_llama.LlamaRMSNorm",
}
