-- transformers.activations.LinearActivation (linear): forward returns its input, the very tensor: nothing is
-- computed, read or written (COST.identity); numel only records the size passed through.
return {
  full_class_name = "transformers.activations.LinearActivation",
  required_parameters = function () return { numel = "int" } end,
  params = function () return 0 end,
  matmul_flops = function () return 0 end,
  flops = function (p) return kernels.elementwise(p.numel, kernels.COST.identity) end,
  memory = function () return { reads = 0, writes = 0, intermediates = 0 } end,
  -- the gradient passes through unchanged
  backward = function (p) return { flops = kernels.elementwise(p.numel, kernels.BACKWARD_COST.identity), matmul_flops = 0 } end,
}
