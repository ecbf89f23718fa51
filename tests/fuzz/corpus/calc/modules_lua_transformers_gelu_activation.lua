-- transformers.activations.GELUActivation: y = x * Phi(x), the exact (erf) GELU, elementwise over numel values.
-- kernels.COST.gelu FLOPs per element forward, BACKWARD_COST.gelu backward; reads the input and writes the output at a_bits.
return kernels.elementwise_calculator {
  full_class_name = "transformers.activations.GELUActivation",
  cost = kernels.COST.gelu,
  backward_cost = kernels.BACKWARD_COST.gelu,
}
