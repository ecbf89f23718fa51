-- transformers.models.olmo2.modeling_olmo2.Olmo2RMSNorm: the same computation as LlamaRMSNorm
-- (modeling_olmo2.py copies it: weight * x * rsqrt(mean(x^2) + eps),
-- no bias, no mean subtraction), with the same parameters: priced by that calculator.
return {
  full_class_name = "transformers.models.olmo2.modeling_olmo2.Olmo2RMSNorm",
  same_as = "transformers.models.llama.modeling_llama.LlamaRMSNorm",
}
