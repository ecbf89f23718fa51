-- transformers.models.llama4.modeling_llama4.Llama4TextL2Norm: x * rsqrt(mean(x^2) + eps) over N rows of hidden_size (head_dim
-- for the q/k norm), no weight: COST.rmsnorm per element; backward BACKWARD_COST.rmsnorm - 1.
return kernels.norm_calculator {
  full_class_name = "transformers.models.llama4.modeling_llama4.Llama4TextL2Norm",
  cost = kernels.COST.rmsnorm,
  backward_cost = kernels.BACKWARD_COST.rmsnorm,

  required_parameters = function ()
    return { N = "int", hidden_size = "posint", a_bits = "posint", w_bits = "posint" }
  end,

  rows = "N", width = "hidden_size",
}
