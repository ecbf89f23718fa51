-- transformers.models.gpt_oss.modeling_gpt_oss.GptOssTopKRouter: F.linear(x, weight [E, hidden], bias [E]), Linear's product and
-- parameters (the builder writes the topk and softmax its forward runs next as layers of their own).
return {
  full_class_name = "transformers.models.gpt_oss.modeling_gpt_oss.GptOssTopKRouter",
  same_as = "torch.nn.modules.linear.Linear",
}
