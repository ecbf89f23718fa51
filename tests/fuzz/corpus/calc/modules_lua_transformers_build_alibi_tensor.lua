-- transformers.models.bloom.modeling_bloom.build_alibi_tensor: slopes = base^(1..H), positions =
-- (cumsum(mask) - 1) * mask over the key_len-long mask, alibi = slopes x positions: (batch*H, 1, key_len).
local function outputs(p)
  return kernels.mul(p.batch_size, p.num_heads, p.key_len)
end

return {
  full_class_name = "transformers.models.bloom.modeling_bloom.build_alibi_tensor",

  required_parameters = function ()
    return { batch_size = "int", key_len = "int", num_heads = "posint", a_bits = "posint" }
  end,

  params = function (p)
    return 0
  end,

  matmul_flops = function (p)
    return 0
  end,

  -- H pows for the slopes; cumsum, - 1, * mask over the batch x key_len mask; one multiply per output
  flops = function (p)
    local mask = kernels.mul(p.batch_size, p.key_len)
    return kernels.add(p.num_heads, kernels.elementwise(mask, 3 * kernels.COST.add),
                       kernels.elementwise(outputs(p), kernels.COST.mul))
  end,

  -- reads the int64 mask, writes the bias at a_bits; the int64 positions are a temporary
  memory = function (p)
    local mask = kernels.mul(p.batch_size, p.key_len, 8)
    return { reads = mask, writes = kernels.bytes(outputs(p), p.a_bits), intermediates = mask }
  end,

  -- built from the attention mask and constant slopes: nothing to differentiate
  backward = function (p)
    return { flops = 0, matmul_flops = 0 }
  end,
}
