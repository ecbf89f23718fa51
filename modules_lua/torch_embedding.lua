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
    local rows = kernels.mul(p.N, p.embedding_dim)
    return {
      reads = kernels.add(kernels.mul(p.N, 8), kernels.bytes(rows, p.w_bits)),
      writes = kernels.bytes(rows, p.a_bits),
      intermediates = 0,
    }
  end,
}
