-- transformers.models.gemma.modeling_gemma.GemmaRMSNorm: y = (x * rsqrt(mean(x^2) + eps)) * (1 + weight)
-- over N rows of hidden_size: COST.rmsnorm + 1 (the multiply) an element, plus hidden_size adds for
-- 1 + weight, a [hidden_size] tensor made once a call and broadcast over the rows. Backward: the input
-- gradient BACKWARD_COST.rmsnorm (with g * (1 + w)), the weight gradient g * xhat summed over rows (+2)
-- an element; the gradient passes through the add to the weight unchanged.
return kernels.norm_calculator {
  full_class_name = "transformers.models.gemma.modeling_gemma.GemmaRMSNorm",
  cost = kernels.COST.rmsnorm,
  backward_cost = kernels.BACKWARD_COST.rmsnorm,

  required_parameters = function ()
    return { N = "int", hidden_size = "posint", a_bits = "posint", w_bits = "posint" }
  end,

  rows = "N", width = "hidden_size", weight = true, unit_offset = true,
}
