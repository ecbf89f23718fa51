-- transformers.models.llama.modeling_llama.LlamaRMSNorm: y = weight * (x * rsqrt(mean(x^2) + eps))
-- over N rows of hidden_size: COST.rmsnorm + 1 (the weight multiply) per element; backward
-- BACKWARD_COST.rmsnorm (6, the input gradient through g*w) + 2 for dW = sum over rows of g*xhat.
return kernels.norm_calculator {
  full_class_name = "transformers.models.llama.modeling_llama.LlamaRMSNorm",
  cost = kernels.COST.rmsnorm,
  backward_cost = kernels.BACKWARD_COST.rmsnorm,

  required_parameters = function ()
    return { N = "int", hidden_size = "posint", a_bits = "posint", w_bits = "posint" }
  end,

  rows = "N", width = "hidden_size", weight = true,
}
