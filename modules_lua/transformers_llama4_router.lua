-- transformers.models.llama4.modeling_llama4.Llama4Router: an nn.Linear(hidden, num_local_experts, bias=False) subclass; its
-- product is Linear's (the builder writes the topk and sigmoid its forward runs next as layers of their own).
return {
  full_class_name = "transformers.models.llama4.modeling_llama4.Llama4Router",
  same_as = "torch.nn.modules.linear.Linear",
}
