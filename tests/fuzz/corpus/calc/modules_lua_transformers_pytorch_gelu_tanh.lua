-- transformers.activations.PytorchGELUTanh: nn.functional.gelu(x, approximate="tanh"), elementwise over numel
-- values (Gemma's gelu_pytorch_tanh): COST.gelu_tanh an element, BACKWARD_COST.gelu_tanh backward.
return kernels.elementwise_calculator {
  full_class_name = "transformers.activations.PytorchGELUTanh",
  cost = kernels.COST.gelu_tanh,
  backward_cost = kernels.BACKWARD_COST.gelu_tanh,
}
