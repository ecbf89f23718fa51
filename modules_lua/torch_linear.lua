-- torch.nn.modules.linear.Linear: y = x W^T + b over N rows of in_features.
-- FlopCounterMode counts the product only (2*N*in*out); the bias add is N*out more.
-- Backward: dX = dY W (2*N*out*in), dW = dY^T X (2*out*N*in), db = the column sums of dY (N*out adds).
return kernels.gemm_calculator {
  full_class_name = "torch.nn.modules.linear.Linear",

  required_parameters = function ()
    -- default as the constructor's: torch.nn.Linear(in_features, out_features, bias=True)
    return { N = "int", in_features = "posint", out_features = "posint", bias = { type = "bool", default = true },
             w_bits = "posint", a_bits = "posint" }
  end,

  rows = "N", inner = "in_features", cols = "out_features", bias = "bias",
}
