-- torch.add: out = a + b (residual connections), elementwise over numel values.
-- kernels.COST.add FLOP per element forward, BACKWARD_COST.add backward; reads both inputs (the second
-- smaller when broadcast: broadcast_numel, optional) and writes the output at a_bits.
return kernels.elementwise_calculator {
  full_class_name = "torch.add",
  cost = kernels.COST.add,
  backward_cost = kernels.BACKWARD_COST.add,
  inputs = 2,
  broadcast = true,
}
