-- transformers.models.falcon.modeling_falcon.FalconLinear: an nn.Linear whose forward is
-- input @ W.T, then + bias as a separate add: the same work as Linear, priced by it.
return {
  full_class_name = "transformers.models.falcon.modeling_falcon.FalconLinear",
  same_as = "torch.nn.modules.linear.Linear",
}
