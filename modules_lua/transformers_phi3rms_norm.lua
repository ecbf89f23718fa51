-- transformers.models.phi3.modeling_phi3.Phi3RMSNorm: the same computation as LlamaRMSNorm
-- (modeling_phi3.py copies it: weight * x * rsqrt(mean(x^2) + eps),
-- no bias, no mean subtraction), with the same parameters: priced by that calculator.
return {
  full_class_name = "transformers.models.phi3.modeling_phi3.Phi3RMSNorm",
  same_as = "transformers.models.llama.modeling_llama.LlamaRMSNorm",
}
