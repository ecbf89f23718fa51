-- transformers.activations.SqrtSoftplusActivation (sqrtsoftplus, DeepSeek-V4's router score): sqrt(softplus(x)),
-- softplus = log(1 + exp(x)): exp, +1, log, sqrt an element (COST.sqrt_softplus).
return kernels.elementwise_calculator {
  full_class_name = "transformers.activations.SqrtSoftplusActivation",
  cost = kernels.COST.sqrt_softplus,
  backward_cost = kernels.BACKWARD_COST.sqrt_softplus,
}
