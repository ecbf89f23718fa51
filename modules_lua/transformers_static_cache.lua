-- transformers.cache_utils.StaticCache: one attention layer's KV-cache write, index_copy_ of the
-- new K and V (new_tokens of them) into the preallocated cache; no arithmetic, no parameters.
-- values (lmp's own, default true): false for a cache of one tensor a token in place of K and V,
-- DeepSeek's MLA latent (num_kv_heads 1, head_dim kv_lora_rank + qk_rope_head_dim).
local function tensors(p) return p.values and 2 or 1 end

local function new_kv(p)
  return kernels.mul(p.batch_size, p.num_kv_heads, p.new_tokens, p.head_dim)  -- elements of K (and of V)
end

return {
  full_class_name = "transformers.cache_utils.StaticCache",

  required_parameters = function ()
    return { batch_size = "int", num_kv_heads = "posint", head_dim = "posint", new_tokens = "int",
             cached_tokens = "int", values = { type = "bool", default = true }, a_bits = "posint", kv_bits = "posint" }
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

  memory = function (p)
    return {
      reads = kernels.mul(tensors(p), kernels.bytes(new_kv(p), p.a_bits)),   -- the new K and V, as projected
      writes = kernels.mul(tensors(p), kernels.bytes(new_kv(p), p.kv_bits)), -- stored at the cache's width
      intermediates = 0,
    }
  end,

  -- the cache once the call returns: K and V for every cached and new token
  state = function (p)
    local tokens = kernels.add(p.cached_tokens, p.new_tokens)
    return kernels.mul(tensors(p), kernels.bytes(kernels.mul(p.batch_size, p.num_kv_heads, tokens, p.head_dim), p.kv_bits))
  end,

  -- training runs without a cache: nothing to differentiate
  backward = function (p)
    return { flops = 0, matmul_flops = 0 }
  end,

  sample_parameters = function ()
    return {
      -- Llama-2-7B layer, prefill of 2048 tokens
      { batch_size = 1, num_kv_heads = 32, head_dim = 128, new_tokens = 2048, cached_tokens = 0,
        a_bits = 16, kv_bits = 16 },
      -- GQA decode step over a 4095-token cache, 8-bit cache
      { batch_size = 4, num_kv_heads = 8, head_dim = 128, new_tokens = 1, cached_tokens = 4095,
        a_bits = 16, kv_bits = 8 },
      -- odd 4-bit sizes, rounded up to whole bytes per tensor
      { batch_size = 3, num_kv_heads = 1, head_dim = 5, new_tokens = 7, cached_tokens = 2,
        a_bits = 4, kv_bits = 4 },
      -- DeepSeek-V3's MLA latent (512 + 64 a token), decode over 4095 cached tokens
      { batch_size = 2, num_kv_heads = 1, head_dim = 576, new_tokens = 1, cached_tokens = 4095, values = false,
        a_bits = 16, kv_bits = 16 },
    }
  end,
}
