-- transformers.pytorch_utils.Conv1D: y = addmm(b, x, W) with W of shape (nx, nf), over N rows.
-- GPT-2's transposed Linear, always with a bias: 2*N*nx*nf for the product, N*nf for the bias.
return {
  full_class_name = "transformers.pytorch_utils.Conv1D",

  required_parameters = function ()
    return { N = "int", nx = "posint", nf = "posint", w_bits = "posint", a_bits = "posint" }
  end,

  params = function (p)
    return kernels.add(kernels.mul(p.nx, p.nf), p.nf)
  end,

  matmul_flops = function (p)
    return kernels.matmul(p.N, p.nx, p.nf)
  end,

  flops = function (p)
    return kernels.add(kernels.matmul(p.N, p.nx, p.nf),
                       kernels.elementwise(kernels.mul(p.N, p.nf), kernels.COST.add))
  end,

  memory = function (p)
    local weights = kernels.add(kernels.mul(p.nx, p.nf), p.nf)
    return {
      reads = kernels.add(kernels.bytes(kernels.mul(p.N, p.nx), p.a_bits), kernels.bytes(weights, p.w_bits)),
      writes = kernels.bytes(kernels.mul(p.N, p.nf), p.a_bits),
      intermediates = 0,
    }
  end,
}
