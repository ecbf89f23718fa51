-- transformers.pytorch_utils.Conv1D: y = addmm(b, x, W) with W of shape (nx, nf), over N rows.
-- GPT-2's transposed Linear, always with a bias: 2*N*nx*nf for the product, N*nf for the bias.
local function weights(p)
  return kernels.add(kernels.mul(p.nx, p.nf), p.nf)
end

return {
  full_class_name = "transformers.pytorch_utils.Conv1D",

  required_parameters = function ()
    return { N = "int", nx = "posint", nf = "posint", w_bits = "posint", a_bits = "posint" }
  end,

  params = weights,

  matmul_flops = function (p)
    return kernels.matmul(p.N, p.nx, p.nf)
  end,

  flops = function (p)
    return kernels.add(kernels.matmul(p.N, p.nx, p.nf),
                       kernels.elementwise(kernels.mul(p.N, p.nf), kernels.COST.add))
  end,

  memory = function (p)
    -- no rows: the builders' N = 0 says this layer does not run in this step, so it reads no weights
    local w = p.N > 0 and kernels.bytes(weights(p), p.w_bits) or 0
    return {
      reads = kernels.add(kernels.bytes(kernels.mul(p.N, p.nx), p.a_bits), w),
      writes = kernels.bytes(kernels.mul(p.N, p.nf), p.a_bits),
      intermediates = 0,
      weights = w,
    }
  end,

  -- dX = dY W^T (2*N*nf*nx) and dW = X^T dY (2*nx*N*nf); db = the column sums of dY (N*nf adds)
  backward = function (p)
    local products = kernels.add(kernels.matmul(p.N, p.nf, p.nx), kernels.matmul(p.nx, p.N, p.nf))
    return { flops = kernels.add(products, kernels.elementwise(kernels.mul(p.N, p.nf), kernels.BACKWARD_COST.add)),
             matmul_flops = products }
  end,
}
