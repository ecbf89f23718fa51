-- transformers.models.gemma3.modeling_gemma3.Gemma3RMSNorm: x * rsqrt(mean(x^2) + eps) * (1 + weight), as
-- Gemma2RMSNorm; also the q_norm and k_norm over each head's head_dim values. GemmaRMSNorm's computation
-- with the same parameters, priced by that calculator.
return {
  full_class_name = "transformers.models.gemma3.modeling_gemma3.Gemma3RMSNorm",
  same_as = "transformers.models.gemma.modeling_gemma.GemmaRMSNorm",
}
