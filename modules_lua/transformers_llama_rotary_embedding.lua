-- transformers.models.llama.modeling_llama.LlamaRotaryEmbedding.forward, the layout of
-- transformers 4.48 to 4.57 (the model owns one rotary_emb and calls it once a forward, before
-- the decoder layers; @torch.no_grad, in fp32 with autocast off):
--   freqs = (inv_freq[None, :, None].expand(B, -1, 1) @ position_ids[:, None, :].float()).transpose(1, 2)
--   emb = cat((freqs, freqs), -1); cos = emb.cos() * attention_scaling; sin = emb.sin() * attention_scaling
-- then both cast to the activation dtype. inv_freq has w/2 entries, w = head_dim rounded up to even
-- (arange(0, head_dim, 2)). The matmul [B, w/2, 1] x [B, 1, seq] is what FlopCounterMode counts:
-- 2*B*(w/2)*1*seq; cos, sin (one transcendental each) and the two scalings are one FLOP an element of
-- emb (B*seq*w). head_dim is the values of a head the rotary turns (the rotary dim of a partial one).
local function width(p) return p.head_dim + p.head_dim % 2 end
local function elements(p) return kernels.mul(p.batch_size, p.seq_len, width(p)) end  -- of emb, cos, sin

return {
  full_class_name = "transformers.models.llama.modeling_llama.LlamaRotaryEmbedding",

  required_parameters = function ()
    return { batch_size = "int", seq_len = "int", head_dim = "posint", a_bits = "posint" }
  end,

  params = function (p)
    return 0  -- inv_freq is a buffer
  end,

  matmul_flops = function (p)
    return kernels.matmul(kernels.mul(p.batch_size, width(p) // 2), 1, p.seq_len)
  end,

  flops = function (p)
    -- the matmul, then cos and sin (a transcendental costs 1, as tanh) and the two multiplies
    -- by attention_scaling
    return kernels.add(kernels.matmul(kernels.mul(p.batch_size, width(p) // 2), 1, p.seq_len),
      kernels.elementwise(elements(p), 2 * kernels.COST.tanh + 2 * kernels.COST.scale))
  end,

  memory = function (p)
    local tokens = kernels.mul(p.batch_size, p.seq_len)
    return {
      -- inv_freq (w/2 fp32) and position_ids (int64)
      reads = kernels.add(kernels.mul(width(p) // 2, 4), kernels.mul(tokens, 8)),
      -- cos and sin at the activation width
      writes = kernels.mul(2, kernels.bytes(elements(p), p.a_bits)),
      -- fp32: position_ids as float (B*seq), freqs (B*seq*w/2), emb, cos, sin and their scaled
      -- copies (5 * B*seq*w), 4 bytes each
      intermediates = kernels.mul(4, kernels.add(tokens, kernels.mul(tokens, width(p) // 2), kernels.mul(5, elements(p)))),
    }
  end,

  -- under torch.no_grad: no gradient flows through the tables
  backward = function (p)
    return { flops = 0, matmul_flops = 0 }
  end,
}
