-- transformers.models.llama4.modeling_llama4.Llama4TextAttention.attn_temperature_tuning: on NoPE layers
-- Llama4TextAttention.forward scales the queries by position: attn_scales = log1p(floor((cache_position
-- + 1) / floor_scale)) * attn_scale + 1 (6 FLOPs a position: +1, /, floor, log1p, *, +; seq_len
-- positions, shared by the batch), then query_states * attn_scales (COST.mul over the B x seq_len x
-- H x head_dim queries). Backward: the queries' gradient g * scale (BACKWARD_COST.scale a value).
local function queries(p) return kernels.mul(p.batch_size, p.seq_len, p.num_heads, p.head_dim) end

return {
  full_class_name = "transformers.models.llama4.modeling_llama4.Llama4TextAttention.attn_temperature_tuning",

  required_parameters = function ()
    return { batch_size = "int", seq_len = "int", num_heads = "posint", head_dim = "posint", a_bits = "posint" }
  end,

  params = function (p) return 0 end,

  matmul_flops = function (p) return 0 end,

  flops = function (p)
    return kernels.add(kernels.elementwise(p.seq_len, 6), kernels.elementwise(queries(p), kernels.COST.mul))
  end,

  memory = function (p)
    local q = kernels.bytes(queries(p), p.a_bits)
    return { reads = kernels.add(q, kernels.bytes(p.seq_len, p.a_bits)), writes = q, intermediates = 0 }
  end,

  backward = function (p)
    return { flops = kernels.elementwise(queries(p), kernels.BACKWARD_COST.scale), matmul_flops = 0 }
  end,

  sample_parameters = function ()
    return {
      { batch_size = 1, seq_len = 128, num_heads = 40, head_dim = 128, a_bits = 16 },
      { batch_size = 2, seq_len = 3, num_heads = 5, head_dim = 4, a_bits = 32 },
    }
  end,
}
