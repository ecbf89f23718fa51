-- transformers.models.opt.modeling_opt.OPTLearnedPositionalEmbedding: positions = cumsum(mask) * mask - 1 over
-- the key_len-long attention mask, the last seq_len of them + offset 2, then an Embedding gather of those rows.
local function check(p)
  if p.key_len < p.seq_len then
    error(string.format("key_len (%d) must be at least seq_len (%d): the mask covers cached and new tokens",
                        p.key_len, p.seq_len), 0)
  end
end

local function rows(p)
  return kernels.mul(p.batch_size, p.seq_len, p.embedding_dim)  -- gathered values
end

return {
  full_class_name = "transformers.models.opt.modeling_opt.OPTLearnedPositionalEmbedding",

  required_parameters = function ()
    return { batch_size = "int", seq_len = "int", key_len = "int", num_embeddings = "posint",
             embedding_dim = "posint", w_bits = "posint", a_bits = "posint" }
  end,

  params = function (p)
    check(p)
    return kernels.mul(p.num_embeddings, p.embedding_dim)
  end,

  matmul_flops = function (p)
    check(p)
    return 0
  end,

  -- cumsum, * mask, - 1 over batch_size x key_len mask values (COST.add each), + offset on the
  -- batch_size x seq_len kept ones; the gather itself is COST.embedding (0)
  flops = function (p)
    check(p)
    local mask = kernels.mul(p.batch_size, p.key_len)
    return kernels.add(kernels.elementwise(mask, 3 * kernels.COST.add),
                       kernels.elementwise(kernels.mul(p.batch_size, p.seq_len), kernels.COST.add),
                       kernels.elementwise(rows(p), kernels.COST.embedding))
  end,

  -- reads the int64 mask and the gathered weight rows; the int64 positions (all key_len of them,
  -- then the seq_len offset ones) are temporaries
  memory = function (p)
    check(p)
    local gathered = kernels.bytes(rows(p), p.w_bits)
    local mask = kernels.mul(p.batch_size, p.key_len, 8)
    return {
      reads = kernels.add(mask, gathered),
      writes = kernels.bytes(rows(p), p.a_bits),
      intermediates = kernels.add(mask, kernels.mul(p.batch_size, p.seq_len, 8)),
      weights = gathered,
    }
  end,

  -- the weight gradient scatter-adds the output-gradient rows (BACKWARD_COST.embedding); positions take none
  backward = function (p)
    check(p)
    return { flops = kernels.elementwise(rows(p), kernels.BACKWARD_COST.embedding), matmul_flops = 0 }
  end,

  sample_parameters = function ()
    return {
      -- OPT-125m prefill of 2048 tokens
      { batch_size = 1, seq_len = 2048, key_len = 2048, num_embeddings = 2050, embedding_dim = 768,
        w_bits = 16, a_bits = 16 },
      -- decode: one new token over 99 cached, 4-bit weights
      { batch_size = 3, seq_len = 1, key_len = 100, num_embeddings = 2050, embedding_dim = 768,
        w_bits = 4, a_bits = 8 },
      -- odd sizes, rounded up to whole bytes
      { batch_size = 1, seq_len = 3, key_len = 5, num_embeddings = 7, embedding_dim = 5,
        w_bits = 3, a_bits = 5 },
    }
  end,
}
