-- transformers.models.t5.modeling_t5.T5Attention._relative_position_bucket: for each of q_len x key_len
-- (query, key) pairs, relative_position = key - query (compute_bias), then its log-spaced bucket id.
-- Per pair: the subtraction, then 13 ops bidirectional (encoder) or 11 causal (decoder), see the db entry.
local function per_pair(p)
  return 1 + (p.bidirectional and 13 or 11)
end

return {
  full_class_name = "transformers.models.t5.modeling_t5.T5Attention._relative_position_bucket",

  required_parameters = function ()
    -- default as the method's: _relative_position_bucket(relative_position, bidirectional=True,
    -- num_buckets=32, max_distance=128)
    return { q_len = "int", key_len = "int", bidirectional = { type = "bool", default = true } }
  end,

  params = function (p)
    return 0
  end,

  matmul_flops = function (p)
    return 0
  end,

  flops = function (p)
    return kernels.elementwise(kernels.mul(p.q_len, p.key_len), per_pair(p))
  end,

  -- reads the int64 query and key positions, writes int64 bucket ids; the int64 relative_position
  -- matrix is a temporary
  memory = function (p)
    local pairs_bytes = kernels.mul(p.q_len, p.key_len, 8)
    return { reads = kernels.mul(kernels.add(p.q_len, p.key_len), 8), writes = pairs_bytes,
             intermediates = pairs_bytes }
  end,

  -- integer positions: nothing to differentiate (the bias table's gradient is the Embedding's)
  backward = function (p)
    return { flops = 0, matmul_flops = 0 }
  end,
}
