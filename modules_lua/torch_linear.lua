-- torch.nn.modules.linear.Linear: y = x W^T + b over N rows of in_features.
-- FlopCounterMode counts the product only (2*N*in*out); the bias add is N*out more.
return {
  full_class_name = "torch.nn.modules.linear.Linear",

  required_parameters = function ()
    return { N = "int", in_features = "posint", out_features = "posint", bias = "bool",
             w_bits = "posint", a_bits = "posint" }
  end,

  params = function (p)
    local bias = p.bias and p.out_features or 0
    return kernels.add(kernels.mul(p.in_features, p.out_features), bias)
  end,

  matmul_flops = function (p)
    return kernels.matmul(p.N, p.in_features, p.out_features)
  end,

  flops = function (p)
    local bias_add = p.bias and kernels.elementwise(kernels.mul(p.N, p.out_features), kernels.COST.add) or 0
    return kernels.add(kernels.matmul(p.N, p.in_features, p.out_features), bias_add)
  end,

  memory = function (p)
    local weights = kernels.add(kernels.mul(p.in_features, p.out_features), p.bias and p.out_features or 0)
    return {
      reads = kernels.add(kernels.bytes(kernels.mul(p.N, p.in_features), p.a_bits),
                          kernels.bytes(weights, p.w_bits)),
      writes = kernels.bytes(kernels.mul(p.N, p.out_features), p.a_bits),
      intermediates = 0,
    }
  end,
}
