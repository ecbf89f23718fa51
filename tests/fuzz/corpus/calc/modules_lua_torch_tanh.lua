-- torch.nn.modules.activation.Tanh: y = tanh(x), elementwise over numel values.
-- kernels.COST.tanh FLOP per element forward, BACKWARD_COST.tanh backward; reads the input and writes the output at a_bits.
return kernels.elementwise_calculator {
  full_class_name = "torch.nn.modules.activation.Tanh",
  cost = kernels.COST.tanh,
  backward_cost = kernels.BACKWARD_COST.tanh,
}
