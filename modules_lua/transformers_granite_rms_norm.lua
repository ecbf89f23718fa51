-- transformers.models.granite.modeling_granite.GraniteRMSNorm: the same computation as
-- LlamaRMSNorm (modeling_granite.py copies it: weight * x * rsqrt(mean(x^2) + eps),
-- no bias, no mean subtraction), with the same parameters: priced by that calculator.
return {
  full_class_name = "transformers.models.granite.modeling_granite.GraniteRMSNorm",
  same_as = "transformers.models.llama.modeling_llama.LlamaRMSNorm",
}
