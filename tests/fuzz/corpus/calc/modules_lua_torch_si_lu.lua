-- torch.nn.modules.activation.SiLU: y = x * sigmoid(x), elementwise over numel values.
-- kernels.COST.silu FLOPs per element forward, BACKWARD_COST.silu backward; reads the input and writes the output at a_bits.
return kernels.elementwise_calculator {
  full_class_name = "torch.nn.modules.activation.SiLU",
  cost = kernels.COST.silu,
  backward_cost = kernels.BACKWARD_COST.silu,
}
