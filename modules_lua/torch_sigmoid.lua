-- torch.nn.modules.activation.Sigmoid: y = 1 / (1 + exp(-x)), elementwise over numel values
-- (also what F.sigmoid / torch.sigmoid compute, e.g. Qwen2-MoE's shared_expert_gate).
-- kernels.COST.sigmoid FLOPs per element forward, BACKWARD_COST.sigmoid (g * y * (1 - y))
-- backward; reads the input and writes the output at a_bits.
return kernels.elementwise_calculator {
  full_class_name = "torch.nn.modules.activation.Sigmoid",
  cost = kernels.COST.sigmoid,
  backward_cost = kernels.BACKWARD_COST.sigmoid,
}
