-- torch.neg (-x, Tensor.__neg__; rotate_half's negated half): elementwise over numel values, one FLOP
-- each (COST.scale, a multiply by -1). Backward: the gradient negated (BACKWARD_COST.scale).
return kernels.elementwise_calculator {
  full_class_name = "torch.neg",
  cost = kernels.COST.scale,
  backward_cost = kernels.BACKWARD_COST.scale,
}
