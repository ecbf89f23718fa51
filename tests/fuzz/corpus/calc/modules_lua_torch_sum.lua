-- torch.sum over the last dim: `rows` rows of `width` values, each summed to one (keepdim or not):
-- COST.add an element read.
return {
  full_class_name = "torch.sum",

  required_parameters = function ()
    return { rows = "int", width = "posint", a_bits = "posint" }
  end,

  params = function (p) return 0 end,

  matmul_flops = function (p) return 0 end,

  flops = function (p)
    return kernels.elementwise(kernels.mul(p.rows, p.width), kernels.COST.add)
  end,

  memory = function (p)
    return { reads = kernels.bytes(kernels.mul(p.rows, p.width), p.a_bits),
             writes = kernels.bytes(p.rows, p.a_bits), intermediates = 0 }
  end,

  -- the gradient of a sum is the output gradient broadcast over the row: an expand, no arithmetic
  backward = function (p)
    return { flops = 0, matmul_flops = 0 }
  end,
}
