-- torch.nn.modules.activation.ReLU: y = max(x, 0), elementwise over numel values.
-- kernels.COST.relu FLOP per element forward, BACKWARD_COST.relu backward; reads the input and writes the output at a_bits.
return kernels.elementwise_calculator {
  full_class_name = "torch.nn.modules.activation.ReLU",
  cost = kernels.COST.relu,
  backward_cost = kernels.BACKWARD_COST.relu,
}
