-- torch.nn.modules.normalization.RMSNorm: y = x * rsqrt(mean(x^2) + eps) * gamma over N rows of d.
-- COST.rmsnorm per element, +1 (mul) for the weight when elementwise_affine;
-- backward BACKWARD_COST.rmsnorm (6) with the weight, +2 for dW; without a weight 5.
return kernels.norm_calculator {
  full_class_name = "torch.nn.modules.normalization.RMSNorm",
  cost = kernels.COST.rmsnorm,
  backward_cost = kernels.BACKWARD_COST.rmsnorm,

  required_parameters = function ()
    -- default as the constructor's: torch.nn.RMSNorm(normalized_shape, eps=None, elementwise_affine=True)
    return { N = "int", normalized_shape = "posint", elementwise_affine = { type = "bool", default = true },
             a_bits = "posint", w_bits = "posint" }
  end,

  rows = "N", width = "normalized_shape", weight = "elementwise_affine",
}
