-- transformers.models.llama.modeling_llama.apply_rotary_pos_emb: x*cos + rotate_half(x)*sin
-- for q (H heads) and k (Hkv heads): COST.rotary per element; reads q, k, cos and sin.
return {
  full_class_name = "transformers.models.llama.modeling_llama.apply_rotary_pos_emb",
  -- the same function, copied into these modules ("Copied from ...llama..."): one key, one calculator
  also = {
    "transformers.models.mistral.modeling_mistral.apply_rotary_pos_emb",
    "transformers.models.mixtral.modeling_mixtral.apply_rotary_pos_emb",
    "transformers.models.qwen2.modeling_qwen2.apply_rotary_pos_emb",
    "transformers.models.gemma.modeling_gemma.apply_rotary_pos_emb",
    "transformers.models.gemma2.modeling_gemma2.apply_rotary_pos_emb",
    "transformers.models.gemma3.modeling_gemma3.apply_rotary_pos_emb",
    "transformers.models.phi.modeling_phi.apply_rotary_pos_emb",
    "transformers.models.falcon.modeling_falcon.apply_rotary_pos_emb",
    "transformers.models.gpt_neox.modeling_gpt_neox.apply_rotary_pos_emb",
    "transformers.models.qwen3.modeling_qwen3.apply_rotary_pos_emb",
    "transformers.models.qwen2_moe.modeling_qwen2_moe.apply_rotary_pos_emb",
    "transformers.models.qwen3_moe.modeling_qwen3_moe.apply_rotary_pos_emb",
    "transformers.models.olmo2.modeling_olmo2.apply_rotary_pos_emb",
    "transformers.models.granite.modeling_granite.apply_rotary_pos_emb",
    "transformers.models.starcoder2.modeling_starcoder2.apply_rotary_pos_emb",
    "transformers.models.phi3.modeling_phi3.apply_rotary_pos_emb",
    -- GptOss: the same 3 FLOPs a value (first * cos - second * sin, ...); its cos and sin are head_dim / 2 wide
    "transformers.models.gpt_oss.modeling_gpt_oss.apply_rotary_pos_emb",
    "transformers.models.deepseek_v3.modeling_deepseek_v3.apply_rotary_pos_emb",
  },

  required_parameters = function ()
    return { batch_size = "int", seq_len = "int", num_heads = "posint", num_kv_heads = "posint",
             head_dim = "posint", a_bits = "posint" }
  end,

  params = function (p)
    return 0
  end,

  matmul_flops = function (p)
    return 0
  end,

  flops = function (p)
    local heads = kernels.add(p.num_heads, p.num_kv_heads)
    return kernels.elementwise(kernels.mul(p.batch_size, p.seq_len, p.head_dim, heads), kernels.COST.rotary)
  end,

  memory = function (p)
    local q = kernels.bytes(kernels.mul(p.batch_size, p.num_heads, p.seq_len, p.head_dim), p.a_bits)
    local k = kernels.bytes(kernels.mul(p.batch_size, p.num_kv_heads, p.seq_len, p.head_dim), p.a_bits)
    local table_bytes = kernels.bytes(kernels.mul(p.seq_len, p.head_dim), p.a_bits)  -- cos, and again sin
    return {
      reads = kernels.add(q, k, kernels.mul(2, table_bytes)),
      writes = kernels.add(q, k),
      intermediates = 0,
    }
  end,

  -- the gradients of q and k go through the inverse rotation (BACKWARD_COST.rotary per element);
  -- cos and sin are buffers and take none
  backward = function (p)
    local heads = kernels.add(p.num_heads, p.num_kv_heads)
    return { flops = kernels.elementwise(kernels.mul(p.batch_size, p.seq_len, p.head_dim, heads), kernels.BACKWARD_COST.rotary),
             matmul_flops = 0 }
  end,
}
