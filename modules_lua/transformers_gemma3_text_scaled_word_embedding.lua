-- transformers.models.gemma3.modeling_gemma3.Gemma3TextScaledWordEmbedding: an nn.Embedding whose forward is
-- super().forward(input_ids) * embed_scale (sqrt(hidden_size), a buffer cast to the weight's dtype): the
-- gather of N rows of embedding_dim, then COST.scale an element. Reads the int64 indices, the gathered weight
-- rows and the scalar; the gathered rows are an intermediate, the scaled rows the output.
local function elements(p) return kernels.mul(p.N, p.embedding_dim) end

return {
  full_class_name = "transformers.models.gemma3.modeling_gemma3.Gemma3TextScaledWordEmbedding",

  required_parameters = function ()
    return { N = "int", num_embeddings = "posint", embedding_dim = "posint", w_bits = "posint", a_bits = "posint" }
  end,

  params = function (p)
    return kernels.mul(p.num_embeddings, p.embedding_dim)
  end,

  matmul_flops = function (p)
    return 0
  end,

  flops = function (p)
    return kernels.elementwise(elements(p), kernels.COST.embedding + kernels.COST.scale)
  end,

  memory = function (p)
    local rows = kernels.bytes(elements(p), p.w_bits)
    return {
      reads = kernels.add(kernels.mul(p.N, 8), rows, kernels.bytes(1, p.w_bits)),
      writes = kernels.bytes(elements(p), p.a_bits),
      intermediates = kernels.bytes(elements(p), p.a_bits),
      weights = rows,
    }
  end,

  -- the scale's input gradient g * embed_scale, then the weight gradient's scatter-add; the indices take none
  backward = function (p)
    return { flops = kernels.elementwise(elements(p), kernels.BACKWARD_COST.scale + kernels.BACKWARD_COST.embedding),
             matmul_flops = 0 }
  end,

  sample_parameters = function ()
    return {
      { N = 2048, num_embeddings = 262144, embedding_dim = 1152, w_bits = 16, a_bits = 16 },
      { N = 3, num_embeddings = 10, embedding_dim = 5, w_bits = 4, a_bits = 8 },
    }
  end,
}
