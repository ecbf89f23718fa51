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
    return {
      reads = kernels.add(kernels.bytes(x, p.a_bits), kernels.bytes(p.hidden_size, p.w_bits)),
      writes = kernels.bytes(x, p.a_bits),
      intermediates = 0,
    }
  end,
}
