-- transformers.activations.GELUTanh (gelu_pytorch_tanh, and gelu_python_tanh with use_gelu_tanh_python): gelu(x,
-- approximate="tanh") or the same formula in Python; PytorchGELUTanh is its older name: priced by that calculator.
return {
  full_class_name = "transformers.activations.GELUTanh",
  same_as = "transformers.activations.PytorchGELUTanh",
}
