-- transformers.models.qwen3_moe.modeling_qwen3_moe.Qwen3MoeRMSNorm: the same computation as
-- LlamaRMSNorm (modeling_qwen3_moe.py copies it: weight * x * rsqrt(mean(x^2) + eps),
-- no bias, no mean subtraction), with the same parameters: priced by that calculator.
return {
  full_class_name = "transformers.models.qwen3_moe.modeling_qwen3_moe.Qwen3MoeRMSNorm",
  same_as = "transformers.models.llama.modeling_llama.LlamaRMSNorm",
}
