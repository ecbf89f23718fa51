-- transformers.models.llama4.modeling_llama4.Llama4TextRMSNorm: weight * (x * rsqrt(mean(x^2) + eps)), LlamaRMSNorm's computation
-- and parameters (modeling_llama4.py: "equivalent to T5LayerNorm"): priced by that calculator.
return {
  full_class_name = "transformers.models.llama4.modeling_llama4.Llama4TextRMSNorm",
  same_as = "transformers.models.llama.modeling_llama.LlamaRMSNorm",
}
