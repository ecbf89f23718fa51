-- transformers.activations.LaplaceActivation (laplace, MEGA): 0.5 * (1 + erf((x - mu) / (sigma * sqrt(2)))) with
-- mu 0.707107, sigma 0.282095: subtract, divide, erf, +1, *0.5 an element (COST.laplace; the divisor is one scalar).
return kernels.elementwise_calculator {
  full_class_name = "transformers.activations.LaplaceActivation",
  cost = kernels.COST.laplace,
  backward_cost = kernels.BACKWARD_COST.laplace,
}
