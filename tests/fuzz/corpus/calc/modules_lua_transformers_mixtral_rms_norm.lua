-- transformers.models.mixtral.modeling_mixtral.MixtralRMSNorm: the same computation as LlamaRMSNorm (transformers marks it
-- "Copied from"; T5's is the original RMS norm: weight * x * rsqrt(mean(x^2) + eps), no bias,
-- no mean subtraction), with the same parameters: priced by that calculator.
return {
  full_class_name = "transformers.models.mixtral.modeling_mixtral.MixtralRMSNorm",
  same_as = "transformers.models.llama.modeling_llama.LlamaRMSNorm",
}
