-- transformers.activations.SiLUActivation (silu in ACT2CLS of late 2025): nn.functional.silu(x): torch's SiLU.
return {
  full_class_name = "transformers.activations.SiLUActivation",
  same_as = "torch.nn.modules.activation.SiLU",
}
