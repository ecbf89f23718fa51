-- torch.matmul (and @, bmm, mm, baddbmm, addmm, einsum of two operands, F.linear on weights the calling
-- module owns): batch independent products of (m x k) @ (k x n), 2 FLOPs a multiply-add, as FlopCounterMode
-- counts mm/bmm. The export writes one of these for each product a module's own forward computes
-- (attention's Q K^T and probs V). No parameters: weights belong to the module that owns them. Memory: both
-- operands read, the product written, at the activation width. Backward: the two products of the same size.
return {
  full_class_name = "torch.matmul",

  required_parameters = function ()
    return { batch = { type = "int", default = 1 }, m = "int", k = "int", n = "int", a_bits = "posint" }
  end,

  params = function (p) return 0 end,

  matmul_flops = function (p)
    return kernels.matmul(kernels.mul(p.batch, p.m), p.k, p.n)
  end,

  flops = function (p)
    return kernels.matmul(kernels.mul(p.batch, p.m), p.k, p.n)
  end,

  memory = function (p)
    local a, b = kernels.mul(p.batch, p.m, p.k), kernels.mul(p.batch, p.k, p.n)
    return { reads = kernels.add(kernels.bytes(a, p.a_bits), kernels.bytes(b, p.a_bits)),
             writes = kernels.bytes(kernels.mul(p.batch, p.m, p.n), p.a_bits), intermediates = 0 }
  end,

  backward = function (p)
    local one = kernels.matmul(kernels.mul(p.batch, p.m), p.k, p.n)
    return { flops = kernels.add(one, one), matmul_flops = kernels.add(one, one) }
  end,

  sample_parameters = function ()
    return {
      -- attention scores of 12 heads, 197 tokens, head_dim 64, batch 2: Q K^T
      { batch = 24, m = 197, k = 64, n = 197, a_bits = 16 },
      { batch = 1, m = 5, k = 3, n = 7, a_bits = 8 },
    }
  end,
}
