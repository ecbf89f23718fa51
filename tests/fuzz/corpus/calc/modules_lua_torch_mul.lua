-- torch.mul: out = a * b (e.g. SwiGLU's gate), elementwise over numel values.
-- kernels.COST.mul FLOP per element forward, BACKWARD_COST.mul backward; reads both inputs (the second
-- smaller when broadcast: broadcast_numel, optional) and writes the output at a_bits.
return kernels.elementwise_calculator {
  full_class_name = "torch.mul",
  cost = kernels.COST.mul,
  backward_cost = kernels.BACKWARD_COST.mul,
  inputs = 2,
  broadcast = true,
}
