-- transformers.pytorch_utils.Conv1D: y = addmm(b, x, W) with W of shape (nx, nf), over N rows.
-- GPT-2's transposed Linear, always with a bias: 2*N*nx*nf for the product, N*nf for the bias.
-- Backward: dX = dY W^T (2*N*nf*nx), dW = X^T dY (2*nx*N*nf), db = the column sums of dY (N*nf adds).
return kernels.gemm_calculator {
  full_class_name = "transformers.pytorch_utils.Conv1D",

  required_parameters = function ()
    return { N = "int", nx = "posint", nf = "posint", w_bits = "posint", a_bits = "posint" }
  end,

  rows = "N", inner = "nx", cols = "nf", bias = true,
}
