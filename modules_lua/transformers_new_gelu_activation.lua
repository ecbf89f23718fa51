-- transformers.activations.NewGELUActivation: y = 0.5x(1 + tanh(sqrt(2/pi)(x + 0.044715x^3))) over numel values.
-- kernels.COST.gelu_tanh FLOPs per element; reads the input and writes the output at a_bits.
return {
  full_class_name = "transformers.activations.NewGELUActivation",

  required_parameters = function ()
    return { numel = "int", a_bits = "posint" }
  end,

  params = function (p)
    return 0
  end,

  matmul_flops = function (p)
    return 0
  end,

  flops = function (p)
    return kernels.elementwise(p.numel, kernels.COST.gelu_tanh)
  end,

  memory = function (p)
    return {
      reads = kernels.bytes(p.numel, p.a_bits),
      writes = kernels.bytes(p.numel, p.a_bits),
      intermediates = 0,
    }
  end,
}
