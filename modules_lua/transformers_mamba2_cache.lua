-- transformers.models.mamba2.modeling_mamba2.Mamba2Cache: one Mamba2 layer's recurrent state in place of a KV
-- cache, the same size whatever the context: conv_states (conv_dim x conv_kernel, the last conv_kernel inputs of
-- the depthwise conv) and ssm_states (num_heads x head_dim x state_size), per sequence, at kv_bits (the cache
-- is allocated in the model's dtype). A prefill initialises both (update_conv_state with cache_init,
-- update_ssm_state with the last chunk's state), each decode step rewrites both: a copy, no FLOPs.
local function elements(p)
  return kernels.mul(p.batch_size, kernels.add(kernels.mul(p.conv_dim, p.conv_kernel),
                                               kernels.mul(p.num_heads, p.head_dim, p.state_size)))
end

return {
  full_class_name = "transformers.models.mamba2.modeling_mamba2.Mamba2Cache",

  required_parameters = function ()
    return { batch_size = "int", conv_dim = "posint", conv_kernel = "posint", num_heads = "posint",
             head_dim = "posint", state_size = "posint", new_tokens = "int", a_bits = "posint", kv_bits = "posint" }
  end,

  params = function (p)
    return 0
  end,

  matmul_flops = function (p)
    return 0
  end,

  flops = function (p)
    return 0
  end,

  -- a step with new tokens reads the new state as computed (a_bits) and writes it at the cache's width
  memory = function (p)
    local n = p.new_tokens > 0 and elements(p) or 0
    return { reads = kernels.bytes(n, p.a_bits), writes = kernels.bytes(n, p.kv_bits), intermediates = 0 }
  end,

  -- the state once the call returns: both tensors, independent of the tokens seen
  state = function (p)
    return kernels.bytes(elements(p), p.kv_bits)
  end,

  -- training runs without a cache: nothing to differentiate
  backward = function (p)
    return { flops = 0, matmul_flops = 0 }
  end,

  sample_parameters = function ()
    return {
      -- Mamba-Codestral-7B layer: conv_dim 8192 + 2*8*128 = 10240, kernel 4, 128 heads of 64, state 128
      { batch_size = 1, conv_dim = 10240, conv_kernel = 4, num_heads = 128, head_dim = 64, state_size = 128,
        new_tokens = 2048, a_bits = 16, kv_bits = 16 },
      -- decode step, batch 4, 8-bit state
      { batch_size = 4, conv_dim = 10240, conv_kernel = 4, num_heads = 128, head_dim = 64, state_size = 128,
        new_tokens = 1, a_bits = 16, kv_bits = 8 },
      -- odd 4-bit sizes, rounded up to whole bytes
      { batch_size = 3, conv_dim = 5, conv_kernel = 3, num_heads = 1, head_dim = 3, state_size = 3,
        new_tokens = 0, a_bits = 4, kv_bits = 4 },
    }
  end,
}
