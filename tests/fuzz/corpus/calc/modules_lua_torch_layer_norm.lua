-- torch.nn.modules.normalization.LayerNorm: y = (x - mean) * rstd * gamma + beta over N rows of d.
-- COST.layernorm per element, +1 (mul) for the weight, +1 (add) for the bias when present.
local function weights(p)
  local w = p.elementwise_affine and p.normalized_shape or 0
  local b = (p.elementwise_affine and p.bias) and p.normalized_shape or 0
  return kernels.add(w, b)
end

-- backward per element: BACKWARD_COST.layernorm (8) is the input gradient with dxhat = g*w;
-- without a weight dxhat = g and that multiply goes (-1); dW = sum over rows of g*xhat (+2);
-- db = sum over rows of g (+1)
local function backward_per_element(p)
  if not p.elementwise_affine then return kernels.BACKWARD_COST.layernorm - kernels.COST.mul end
  return kernels.BACKWARD_COST.layernorm + 2 + (p.bias and 1 or 0)
end

return {
  full_class_name = "torch.nn.modules.normalization.LayerNorm",

  required_parameters = function ()
    -- defaults as the constructor's: torch.nn.LayerNorm(normalized_shape, eps=1e-05,
    -- elementwise_affine=True, bias=True)
    return { N = "int", normalized_shape = "posint", elementwise_affine = { type = "bool", default = true },
             bias = { type = "bool", default = true }, a_bits = "posint", w_bits = "posint" }
  end,

  params = weights,

  matmul_flops = function (p)
    return 0
  end,

  flops = function (p)
    local per = kernels.COST.layernorm
    if p.elementwise_affine then
      per = per + kernels.COST.mul
      if p.bias then per = per + kernels.COST.add end
    end
    return kernels.elementwise(kernels.mul(p.N, p.normalized_shape), per)
  end,

  memory = function (p)
    local x = kernels.mul(p.N, p.normalized_shape)
    -- no rows: the builders' N = 0 says this layer does not run in this step, so it reads no weights
    local w = p.N > 0 and kernels.bytes(weights(p), p.w_bits) or 0
    return {
      reads = kernels.add(kernels.bytes(x, p.a_bits), w),
      writes = kernels.bytes(x, p.a_bits),
      intermediates = 0,
      weights = w,
    }
  end,

  backward = function (p)
    return { flops = kernels.elementwise(kernels.mul(p.N, p.normalized_shape), backward_per_element(p)),
             matmul_flops = 0 }
  end,
}
