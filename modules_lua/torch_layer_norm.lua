-- torch.nn.modules.normalization.LayerNorm: y = (x - mean) * rstd * gamma + beta over N rows of d.
-- COST.layernorm per element, +1 (mul) for the weight, +1 (add) for the bias when present;
-- backward BACKWARD_COST.layernorm (8) with the weight, +2 for dW, +1 for db; without a weight 7.
return kernels.norm_calculator {
  full_class_name = "torch.nn.modules.normalization.LayerNorm",
  cost = kernels.COST.layernorm,
  backward_cost = kernels.BACKWARD_COST.layernorm,

  required_parameters = function ()
    -- defaults as the constructor's: torch.nn.LayerNorm(normalized_shape, eps=1e-05,
    -- elementwise_affine=True, bias=True)
    return { N = "int", normalized_shape = "posint", elementwise_affine = { type = "bool", default = true },
             bias = { type = "bool", default = true }, a_bits = "posint", w_bits = "posint" }
  end,

  -- the bias exists only beside the weight (elementwise_affine=False makes neither)
  rows = "N", width = "normalized_shape", weight = "elementwise_affine", bias = "bias",
}
