-- transformers.activations.NewGELUActivation: GPT-2's "gelu_new", the tanh approximation of GELU, elementwise over numel values.
-- kernels.COST.gelu_tanh FLOPs per element forward, BACKWARD_COST.gelu_tanh backward; reads the input and writes the output at a_bits.
return kernels.elementwise_calculator {
  full_class_name = "transformers.activations.NewGELUActivation",
  cost = kernels.COST.gelu_tanh,
  backward_cost = kernels.BACKWARD_COST.gelu_tanh,
}
