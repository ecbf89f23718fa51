-- transformers.models.bloom.modeling_bloom.BloomGelu: x * 0.5 * (1 + tanh(0.79788456 * x * (1 + 0.044715 * x^2))),
-- the tanh approximation of GELU, elementwise over numel values at COST.gelu_tanh (BACKWARD_COST.gelu_tanh in training).
return kernels.elementwise_calculator {
  full_class_name = "transformers.models.bloom.modeling_bloom.BloomGelu",
  cost = kernels.COST.gelu_tanh,
  backward_cost = kernels.BACKWARD_COST.gelu_tanh,
}
