-- transformers.models.gpt_oss.modeling_gpt_oss.GptOssRMSNorm: weight * (x * rsqrt(mean(x^2) + eps)) (the weight applied in float32
-- before the cast back, the same arithmetic), LlamaRMSNorm's parameters: priced by that calculator.
return {
  full_class_name = "transformers.models.gpt_oss.modeling_gpt_oss.GptOssRMSNorm",
  same_as = "transformers.models.llama.modeling_llama.LlamaRMSNorm",
}
