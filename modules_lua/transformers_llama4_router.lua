-- transformers.models.llama4.modeling_llama4.Llama4Router: an nn.Linear(hidden_size, num_local_experts, bias=False) subclass,
-- built from the config (no bias to choose): Linear's product over N rows, no bias. The torch.topk
-- and sigmoid its forward runs next are layers of their own in the builder.
return kernels.gemm_calculator {
  full_class_name = "transformers.models.llama4.modeling_llama4.Llama4Router",

  required_parameters = function ()
    return { N = "int", in_features = "posint", out_features = "posint", w_bits = "posint", a_bits = "posint" }
  end,

  rows = "N", inner = "in_features", cols = "out_features", bias = false,
}
