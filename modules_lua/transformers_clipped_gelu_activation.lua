-- transformers.activations.ClippedGELUActivation (gelu_10: min -10, max 10): torch.clip(gelu(x), min, max), the erf
-- GELU (5) then two comparisons (2): COST.clipped_gelu. min and max change no count, so they are not parameters.
return kernels.elementwise_calculator {
  full_class_name = "transformers.activations.ClippedGELUActivation",
  cost = kernels.COST.clipped_gelu,
  backward_cost = kernels.BACKWARD_COST.clipped_gelu,
}
