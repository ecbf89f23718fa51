-- torch.add: out = a + b elementwise over numel values (residual connections).
-- kernels.COST.add FLOP per element; reads both inputs and writes the result at a_bits.
return {
  full_class_name = "torch.add",

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
    return kernels.elementwise(p.numel, kernels.COST.add)
  end,

  memory = function (p)
    local one = kernels.bytes(p.numel, p.a_bits)
    return {
      reads = kernels.mul(2, one),
      writes = one,
      intermediates = 0,
    }
  end,
}
