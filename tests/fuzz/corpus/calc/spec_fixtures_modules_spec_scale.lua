-- spec.Scale: a well-behaved calculator for the walk specs: N elementwise multiplies
-- (N FLOPs), `weights` parameters read at one byte each, N*2 bytes of activations read
-- and written; backward 2*N FLOPs.
return {
  full_class_name = "spec.Scale",
  required_parameters = function () return { N = "int", weights = "int" } end,
  flops = function (p) return p.N end,
  matmul_flops = function (p) return 0 end,
  params = function (p) return p.weights end,
  memory = function (p)
    return { reads = 2 * p.N + p.weights, writes = 2 * p.N, intermediates = 0, weights = p.weights }
  end,
  backward = function (p) return { flops = 2 * p.N, matmul_flops = 0 } end,
}
