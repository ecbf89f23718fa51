-- transformers.models.gemma2.modeling_gemma2.Gemma2RMSNorm: x * rsqrt(mean(x^2) + eps) * (1 + weight), computed
-- in float32 and cast back: GemmaRMSNorm's computation with the same parameters, priced by that calculator.
return {
  full_class_name = "transformers.models.gemma2.modeling_gemma2.Gemma2RMSNorm",
  same_as = "transformers.models.gemma.modeling_gemma.GemmaRMSNorm",
}
