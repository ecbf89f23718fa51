-- torch.nn.modules.activation.Hardswish: x * relu6(x + 3) / 6, elementwise over numel values: +3, two
-- comparisons, the product and the division, COST.hardswish; BACKWARD_COST.hardswish in training.
return kernels.elementwise_calculator {
  full_class_name = "torch.nn.modules.activation.Hardswish",
  cost = kernels.COST.hardswish,
  backward_cost = kernels.BACKWARD_COST.hardswish,
}
