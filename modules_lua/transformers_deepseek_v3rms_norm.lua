-- transformers.models.deepseek_v3.modeling_deepseek_v3.DeepseekV3RMSNorm: the same computation as
-- LlamaRMSNorm (weight * x * rsqrt(mean(x^2) + eps), no bias, no mean subtraction), with the same
-- parameters: priced by that calculator.
return {
  full_class_name = "transformers.models.deepseek_v3.modeling_deepseek_v3.DeepseekV3RMSNorm",
  same_as = "transformers.models.llama.modeling_llama.LlamaRMSNorm",
}
