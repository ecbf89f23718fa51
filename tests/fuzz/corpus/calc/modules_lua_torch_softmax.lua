-- torch.nn.modules.activation.Softmax: y = exp(x - max) / sum(exp(x - max)) along a dim, elementwise over numel values.
-- kernels.COST.softmax FLOPs per element forward, BACKWARD_COST.softmax backward; reads the input and writes the output at a_bits.
return kernels.elementwise_calculator {
  full_class_name = "torch.nn.modules.activation.Softmax",
  cost = kernels.COST.softmax,
  backward_cost = kernels.BACKWARD_COST.softmax,
}
