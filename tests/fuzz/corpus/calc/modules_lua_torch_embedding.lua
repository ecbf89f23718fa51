-- torch.nn.modules.sparse.Embedding: y = W[idx], a gather of N rows of embedding_dim (no arithmetic).
-- Reads the int64 indices and the N gathered weight rows; writes N rows of activations.
return {
  full_class_name = "torch.nn.modules.sparse.Embedding",

  required_parameters = function ()
    return { N = "int", num_embeddings = "posint", embedding_dim = "posint",
             w_bits = "posint", a_bits = "posint" }
  end,

  params = function (p)
    return kernels.mul(p.num_embeddings, p.embedding_dim)
  end,

  matmul_flops = function (p)
    return 0
  end,

  flops = function (p)
    return kernels.elementwise(kernels.mul(p.N, p.embedding_dim), kernels.COST.embedding)
  end,

  memory = function (p)
    local rows = kernels.bytes(kernels.mul(p.N, p.embedding_dim), p.w_bits)  -- the gathered rows are the weights read
    return {
      reads = kernels.add(kernels.mul(p.N, 8), rows),
      writes = kernels.bytes(kernels.mul(p.N, p.embedding_dim), p.a_bits),
      intermediates = 0,
      weights = rows,
    }
  end,

  -- the weight gradient scatter-adds the N output-gradient rows into dW; the indices take no gradient
  backward = function (p)
    return { flops = kernels.elementwise(kernels.mul(p.N, p.embedding_dim), kernels.BACKWARD_COST.embedding),
             matmul_flops = 0 }
  end,
}
