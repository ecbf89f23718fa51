-- transformers.activations.QuickGELUActivation (quick_gelu): x * sigmoid(1.702 * x), elementwise over numel values:
-- the scale (1), sigmoid (3) and the product (1), COST.quick_gelu; BACKWARD_COST.quick_gelu in training.
return kernels.elementwise_calculator {
  full_class_name = "transformers.activations.QuickGELUActivation",
  cost = kernels.COST.quick_gelu,
  backward_cost = kernels.BACKWARD_COST.quick_gelu,
}
