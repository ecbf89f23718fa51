-- transformers.activations.ReLUSquaredActivation (relu2): square(relu(x)), elementwise over numel values:
-- max(x, 0) and one multiply, COST.relu2; BACKWARD_COST.relu2 in training.
return kernels.elementwise_calculator {
  full_class_name = "transformers.activations.ReLUSquaredActivation",
  cost = kernels.COST.relu2,
  backward_cost = kernels.BACKWARD_COST.relu2,
}
