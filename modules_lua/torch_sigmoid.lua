-- torch.nn.modules.activation.Sigmoid: 1 / (1 + exp(-x)), elementwise over numel values: exp(-x), +1, the
-- reciprocal, COST.sigmoid; BACKWARD_COST.sigmoid (g * y * (1 - y)) in training.
return kernels.elementwise_calculator {
  full_class_name = "torch.nn.modules.activation.Sigmoid",
  cost = kernels.COST.sigmoid,
  backward_cost = kernels.BACKWARD_COST.sigmoid,
}
