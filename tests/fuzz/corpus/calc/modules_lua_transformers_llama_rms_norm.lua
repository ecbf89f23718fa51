-- transformers.models.llama.modeling_llama.LlamaRMSNorm: y = weight * (x * rsqrt(mean(x^2) + eps))
-- over N rows of hidden_size: COST.rmsnorm + 1 (the weight multiply) per element.
return {
  full_class_name = "transformers.models.llama.modeling_llama.LlamaRMSNorm",

  required_parameters = function ()
    return { N = "int", hidden_size = "posint", a_bits = "posint", w_bits = "posint" }
  end,

  params = function (p)
    return p.hidden_size
  end,

  matmul_flops = function (p)
    return 0
  end,

  flops = function (p)
    return kernels.elementwise(kernels.mul(p.N, p.hidden_size), kernels.COST.rmsnorm + kernels.COST.mul)
  end,

  memory = function (p)
    local x = kernels.mul(p.N, p.hidden_size)
    -- no rows: the builders' N = 0 says this layer does not run in this step, so it reads no weights
    local w = p.N > 0 and kernels.bytes(p.hidden_size, p.w_bits) or 0
    return {
      reads = kernels.add(kernels.bytes(x, p.a_bits), w),
      writes = kernels.bytes(x, p.a_bits),
      intermediates = 0,
      weights = w,
    }
  end,

  -- BACKWARD_COST.rmsnorm (6, the input gradient through g*w) + 2 for dW = sum over rows of g*xhat
  backward = function (p)
    return { flops = kernels.elementwise(kernels.mul(p.N, p.hidden_size), kernels.BACKWARD_COST.rmsnorm + 2),
             matmul_flops = 0 }
  end,
}
