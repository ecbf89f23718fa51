-- transformers.models.qwen2_moe.modeling_qwen2_moe.Qwen2MoeRMSNorm: the same computation as
-- LlamaRMSNorm (modeling_qwen2_moe.py copies it: weight * x * rsqrt(mean(x^2) + eps),
-- no bias, no mean subtraction), with the same parameters: priced by that calculator.
return {
  full_class_name = "transformers.models.qwen2_moe.modeling_qwen2_moe.Qwen2MoeRMSNorm",
  same_as = "transformers.models.llama.modeling_llama.LlamaRMSNorm",
}
