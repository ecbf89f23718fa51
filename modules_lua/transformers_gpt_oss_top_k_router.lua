-- transformers.models.gpt_oss.modeling_gpt_oss.GptOssTopKRouter: F.linear(x, weight [num_experts, hidden_dim], bias [num_experts])
-- over N rows: one product and the bias add. The torch.topk and softmax its forward runs next are
-- layers of their own in the builder.
return kernels.gemm_calculator {
  full_class_name = "transformers.models.gpt_oss.modeling_gpt_oss.GptOssTopKRouter",

  required_parameters = function ()
    return { N = "int", hidden_dim = "posint", num_experts = "posint", w_bits = "posint", a_bits = "posint" }
  end,

  rows = "N", inner = "hidden_dim", cols = "num_experts", bias = true,
}
