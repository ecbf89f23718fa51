-- transformers.models.qwen3.modeling_qwen3.Qwen3RMSNorm: the same computation as LlamaRMSNorm
-- (modeling_qwen3.py copies it: weight * x * rsqrt(mean(x^2) + eps),
-- no bias, no mean subtraction), with the same parameters: priced by that calculator.
return {
  full_class_name = "transformers.models.qwen3.modeling_qwen3.Qwen3RMSNorm",
  same_as = "transformers.models.llama.modeling_llama.LlamaRMSNorm",
}
