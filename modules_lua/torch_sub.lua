-- torch.sub (a - b, Tensor.__sub__ / __rsub__): elementwise over numel values, one FLOP each
-- (COST.add); broadcast_numel: a smaller second operand. Backward: the gradient passed on, negated
-- for b (BACKWARD_COST.add).
return kernels.elementwise_calculator {
  full_class_name = "torch.sub",
  cost = kernels.COST.add,
  backward_cost = kernels.BACKWARD_COST.add,
  inputs = 2,
  broadcast = true,
}
