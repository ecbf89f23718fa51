-- torch.nn.modules.activation.ReLU6: min(max(x, 0), 6), elementwise over numel values: two comparisons,
-- COST.relu6; BACKWARD_COST.relu6 (g where 0 < x < 6) in training.
return kernels.elementwise_calculator {
  full_class_name = "torch.nn.modules.activation.ReLU6",
  cost = kernels.COST.relu6,
  backward_cost = kernels.BACKWARD_COST.relu6,
}
