-- torch.sin (Tensor.sin; the rotary tables' sin of position * inv_freq): elementwise over numel values, one
-- transcendental each (COST.trig). Backward: cos(x) * g, BACKWARD_COST.trig (the derivative and a multiply).
return kernels.elementwise_calculator {
  full_class_name = "torch.sin",
  cost = kernels.COST.trig,
  backward_cost = kernels.BACKWARD_COST.trig,
}
