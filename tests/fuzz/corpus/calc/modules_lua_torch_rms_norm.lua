-- torch.nn.modules.normalization.RMSNorm: y = x * rsqrt(mean(x^2) + eps) * gamma over N rows of d.
-- COST.rmsnorm per element, +1 (mul) for the weight when elementwise_affine.
local function weights(p)
  return p.elementwise_affine and p.normalized_shape or 0
end

-- backward per element: BACKWARD_COST.rmsnorm (6) is the input gradient with dxhat = g*w;
-- without a weight dxhat = g and that multiply goes (-1); dW = sum over rows of g*xhat (+2)
local function backward_per_element(p)
  if not p.elementwise_affine then return kernels.BACKWARD_COST.rmsnorm - kernels.COST.mul end
  return kernels.BACKWARD_COST.rmsnorm + 2
end

return {
  full_class_name = "torch.nn.modules.normalization.RMSNorm",

  required_parameters = function ()
    -- default as the constructor's: torch.nn.RMSNorm(normalized_shape, eps=None, elementwise_affine=True)
    return { N = "int", normalized_shape = "posint", elementwise_affine = { type = "bool", default = true },
             a_bits = "posint", w_bits = "posint" }
  end,

  params = weights,

  matmul_flops = function (p)
    return 0
  end,

  flops = function (p)
    local per = kernels.COST.rmsnorm + (p.elementwise_affine and kernels.COST.mul or 0)
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
