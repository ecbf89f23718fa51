-- transformers.models.gemma.modeling_gemma.GemmaModel.normalizer: GemmaModel.forward scales the embeddings,
-- hidden_states * normalizer with normalizer = sqrt(hidden_size) a 0-d tensor: COST.scale over numel values.
return {
  full_class_name = "transformers.models.gemma.modeling_gemma.GemmaModel.normalizer",
  -- Gemma2Model.forward scales its embeddings the same way: one key, one calculator
  also = { "transformers.models.gemma2.modeling_gemma2.Gemma2Model.normalizer" },

  required_parameters = function ()
    return { numel = "int", a_bits = "posint" }
  end,

  params = function (p) return 0 end,

  matmul_flops = function (p) return 0 end,

  flops = function (p)
    return kernels.elementwise(p.numel, kernels.COST.scale)
  end,

  memory = function (p)
    local x = kernels.bytes(p.numel, p.a_bits)
    -- reads the embeddings and the one scalar; writes the scaled embeddings
    return { reads = kernels.add(x, kernels.bytes(1, p.a_bits)), writes = x, intermediates = 0 }
  end,

  -- the input gradient g * normalizer; the constant has none
  backward = function (p)
    return { flops = kernels.elementwise(p.numel, kernels.BACKWARD_COST.scale), matmul_flops = 0 }
  end,
}
