-- torch.nn.modules.linear.Linear: y = x W^T + b over N rows of in_features.
-- FlopCounterMode counts the product only (2*N*in*out); the bias add is N*out more.
local function weights(p)
  return kernels.add(kernels.mul(p.in_features, p.out_features), p.bias and p.out_features or 0)
end

return {
  full_class_name = "torch.nn.modules.linear.Linear",

  required_parameters = function ()
    -- default as the constructor's: torch.nn.Linear(in_features, out_features, bias=True)
    return { N = "int", in_features = "posint", out_features = "posint", bias = { type = "bool", default = true },
             w_bits = "posint", a_bits = "posint" }
  end,

  params = weights,

  matmul_flops = function (p)
    return kernels.matmul(p.N, p.in_features, p.out_features)
  end,

  flops = function (p)
    local bias_add = p.bias and kernels.elementwise(kernels.mul(p.N, p.out_features), kernels.COST.add) or 0
    return kernels.add(kernels.matmul(p.N, p.in_features, p.out_features), bias_add)
  end,

  memory = function (p)
    -- no rows: the builders' N = 0 says this layer does not run in this step, so it reads no weights
    local w = p.N > 0 and kernels.bytes(weights(p), p.w_bits) or 0
    return {
      reads = kernels.add(kernels.bytes(kernels.mul(p.N, p.in_features), p.a_bits), w),
      writes = kernels.bytes(kernels.mul(p.N, p.out_features), p.a_bits),
      intermediates = 0,
      weights = w,
    }
  end,

  -- dX = dY W (2*N*out*in) and dW = dY^T X (2*out*N*in); db = the column sums of dY (N*out adds)
  backward = function (p)
    local products = kernels.add(kernels.matmul(p.N, p.out_features, p.in_features),
                                 kernels.matmul(p.out_features, p.N, p.in_features))
    local bias_grad = p.bias and kernels.elementwise(kernels.mul(p.N, p.out_features), kernels.BACKWARD_COST.add) or 0
    return { flops = kernels.add(products, bias_grad), matmul_flops = products }
  end,
}
