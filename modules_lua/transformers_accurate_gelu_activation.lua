-- transformers.activations.AccurateGELUActivation (gelu_accurate): 0.5 * x * (1 + tanh(sqrt(2/pi) * (x + 0.044715 * x^3))),
-- NewGELUActivation's formula with the constant computed once: priced by that calculator.
return {
  full_class_name = "transformers.activations.AccurateGELUActivation",
  same_as = "transformers.activations.NewGELUActivation",
}
