-- transformers.activations.FastGELUActivation (gelu_fast): 0.5 * x * (1 + tanh(x * 0.7978845608 * (1 + 0.044715 * x * x))),
-- the tanh approximation of GELU written with x*x in place of x^3: the same 9 FLOPs an element (COST.gelu_tanh), 19 backward.
return kernels.elementwise_calculator {
  full_class_name = "transformers.activations.FastGELUActivation",
  cost = kernels.COST.gelu_tanh,
  backward_cost = kernels.BACKWARD_COST.gelu_tanh,
}
