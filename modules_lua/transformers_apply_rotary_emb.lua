-- transformers.models.llama4.modeling_llama4.apply_rotary_emb: q and k viewed as complex pairs times freqs_cis (a complex
-- product per pair: 4 multiplies and 2 adds, 3 FLOPs a value, COST.rotary) for q (H heads) and k
-- (Hkv heads); reads q, k and freqs_cis (seq_len x head_dim/2 complex values: seq_len x head_dim reals).
local function values(p) return kernels.mul(p.batch_size, p.seq_len, p.head_dim, kernels.add(p.num_heads, p.num_kv_heads)) end

return {
  full_class_name = "transformers.models.llama4.modeling_llama4.apply_rotary_emb",
  -- DeepSeek-V2's is the same complex multiply over a freqs_cis table of the same shape
  also = { "transformers.models.deepseek_v2.modeling_deepseek_v2.apply_rotary_emb" },

  required_parameters = function ()
    return { batch_size = "int", seq_len = "int", num_heads = "posint", num_kv_heads = "posint",
             head_dim = "posint", a_bits = "posint" }
  end,

  params = function (p) return 0 end,

  matmul_flops = function (p) return 0 end,

  flops = function (p) return kernels.elementwise(values(p), kernels.COST.rotary) end,

  memory = function (p)
    local qk = kernels.bytes(values(p), p.a_bits)
    return { reads = kernels.add(qk, kernels.bytes(kernels.mul(p.seq_len, p.head_dim), p.a_bits)), writes = qk, intermediates = 0 }
  end,

  -- the gradients of q and k go through the conjugate rotation (BACKWARD_COST.rotary a value)
  backward = function (p)
    return { flops = kernels.elementwise(values(p), kernels.BACKWARD_COST.rotary), matmul_flops = 0 }
  end,

  sample_parameters = function ()
    return {
      { batch_size = 1, seq_len = 128, num_heads = 40, num_kv_heads = 8, head_dim = 128, a_bits = 16 },
      { batch_size = 3, seq_len = 1, num_heads = 4, num_kv_heads = 4, head_dim = 2, a_bits = 32 },
    }
  end,
}
