-- transformers.activations.MishActivation (mish): nn.functional.mish(x) = x * tanh(softplus(x)), softplus =
-- log(1 + exp(x)): exp, +1, log, tanh and the product, 5 FLOPs an element (COST.mish); BACKWARD_COST.mish in
-- training. (torch.nn.Mish computes the same; it stays without a calculator, the specs' example of one lmp
-- generates.)
return kernels.elementwise_calculator {
  full_class_name = "transformers.activations.MishActivation",
  cost = kernels.COST.mish,
  backward_cost = kernels.BACKWARD_COST.mish,
}
