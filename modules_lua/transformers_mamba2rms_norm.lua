-- transformers.models.mamba2.modeling_mamba2.Mamba2RMSNorm: the same computation as LlamaRMSNorm
-- (modeling_mamba2.py: weight * x * rsqrt(mean(x^2) + eps), no bias, no mean subtraction), with the same
-- parameters: priced by that calculator.
return {
  full_class_name = "transformers.models.mamba2.modeling_mamba2.Mamba2RMSNorm",
  same_as = "transformers.models.llama.modeling_llama.LlamaRMSNorm",
}
