-- torch.nn.modules.activation.LeakyReLU: x > 0 ? x : negative_slope * x, elementwise over numel values: the
-- product and the select, COST.leaky_relu. negative_slope changes no count, so it is not a parameter.
return kernels.elementwise_calculator {
  full_class_name = "torch.nn.modules.activation.LeakyReLU",
  cost = kernels.COST.leaky_relu,
  backward_cost = kernels.BACKWARD_COST.leaky_relu,
}
