-- transformers.models.llama4.modeling_llama4.Llama4TextRotaryEmbedding:
-- Llama4's forward builds freqs_cis (inv_freq @ position_ids, then torch.polar: a cos and a sin an
-- element); the model owns one and calls it once a forward: priced by that calculator.
return {
  full_class_name = "transformers.models.llama4.modeling_llama4.Llama4TextRotaryEmbedding",
  same_as = "transformers.models.llama.modeling_llama.LlamaRotaryEmbedding",
}
