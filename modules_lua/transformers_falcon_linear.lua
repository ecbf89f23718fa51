-- transformers.models.falcon.modeling_falcon.FalconLinear: nn.Linear whose forward is input @ W.T, then
-- + bias as a separate add: the product 2*N*in*out (FlopCounterMode's figure), the bias add N*out more.
local function weight_count(p)
  return kernels.add(kernels.mul(p.in_features, p.out_features), p.bias and p.out_features or 0)
end

return {
  full_class_name = "transformers.models.falcon.modeling_falcon.FalconLinear",

  required_parameters = function ()
    return { N = "int", in_features = "posint", out_features = "posint", bias = "bool",
             w_bits = "posint", a_bits = "posint" }
  end,

  params = weight_count,

  matmul_flops = function (p)
    return kernels.matmul(p.N, p.in_features, p.out_features)
  end,

  flops = function (p)
    local bias_add = p.bias and kernels.elementwise(kernels.mul(p.N, p.out_features), kernels.COST.add) or 0
    return kernels.add(kernels.matmul(p.N, p.in_features, p.out_features), bias_add)
  end,

  memory = function (p)
    -- no rows: the builders' N = 0 says this layer does not run in this step, so it reads no weights
    local w = p.N > 0 and kernels.bytes(weight_count(p), p.w_bits) or 0
    return {
      reads = kernels.add(kernels.bytes(kernels.mul(p.N, p.in_features), p.a_bits), w),
      writes = kernels.bytes(kernels.mul(p.N, p.out_features), p.a_bits),
      intermediates = 0,
      weights = w,
    }
  end,

  -- dX = dY W (2*N*in*out), dW = dY^T X (2*N*in*out), db = column sums of dY (N*out)
  backward = function (p)
    local mm = kernels.mul(2, kernels.matmul(p.N, p.in_features, p.out_features))
    local db = p.bias and kernels.mul(p.N, p.out_features) or 0
    return { flops = kernels.add(mm, db), matmul_flops = mm }
  end,
}
