-- torch.cos (Tensor.cos; the rotary tables' cos of position * inv_freq): elementwise over numel values, one
-- transcendental each (COST.trig). Backward: -sin(x) * g, BACKWARD_COST.trig (the derivative and a multiply).
return kernels.elementwise_calculator {
  full_class_name = "torch.cos",
  cost = kernels.COST.trig,
  backward_cost = kernels.BACKWARD_COST.trig,
}
