-- torch.nn.modules.activation.MultiheadAttention (F.multi_head_attention_forward): query of q_len and
-- key/value of key_len positions, batch_size sequences, embed_dim E split into num_heads heads.
-- Products (2 FLOPs a multiply-add, as FlopCounterMode counts the addmm/bmm it runs):
--   projections  q: 2*B*q_len*E*E   k: 2*B*key_len*kdim*E   v: 2*B*key_len*vdim*E
--   scores Q K^T 2*B*q_len*S*E and probs V 2*B*q_len*S*E over S = key_len (+1 with add_bias_kv,
--   +1 with add_zero_attn), the heads' head_dim summing to E; out_proj 2*B*q_len*E*E.
-- Elementwise: the q scaling (B*q_len*E), softmax over B*heads*q_len*S (COST.softmax), with bias the
-- projections' and out_proj's bias adds. Parameters: in-projection E*(E + kdim + vdim) (packed or not),
-- out_proj E*E, with bias 3E + E, with add_bias_kv 2E. Dropout is off at inference.
local C = kernels.COST

local function key_positions(p)
  return p.key_len + (p.add_bias_kv and 1 or 0) + (p.add_zero_attn and 1 or 0)
end

local function matmuls(p)
  local q_rows, k_rows, e = kernels.mul(p.batch_size, p.q_len), kernels.mul(p.batch_size, p.key_len), p.embed_dim
  local s = key_positions(p)
  return kernels.add(kernels.matmul(q_rows, e, e), kernels.matmul(k_rows, p.kdim, e), kernels.matmul(k_rows, p.vdim, e),
                     kernels.matmul(q_rows, e, s), kernels.matmul(q_rows, s, e), kernels.matmul(q_rows, e, e))
end

local function check(p)
  if p.embed_dim % p.num_heads ~= 0 then
    error(string.format("embed_dim (%d) must be a multiple of num_heads (%d)", p.embed_dim, p.num_heads), 0)
  end
end

local function weights(p)
  local e = p.embed_dim
  return kernels.add(kernels.mul(e, e + p.kdim + p.vdim), kernels.mul(e, e), p.bias and 4 * e or 0,
                     p.add_bias_kv and 2 * e or 0)
end

return {
  full_class_name = "torch.nn.modules.activation.MultiheadAttention",

  required_parameters = function ()
    return { batch_size = "int", q_len = "int", key_len = "int", embed_dim = "posint", num_heads = "posint",
             kdim = "posint", vdim = "posint", bias = { type = "bool", default = true },
             add_bias_kv = { type = "bool", default = false }, add_zero_attn = { type = "bool", default = false },
             a_bits = "posint", w_bits = "posint" }
  end,

  params = function (p) check(p) return weights(p) end,

  matmul_flops = function (p) check(p) return matmuls(p) end,

  flops = function (p)
    check(p)
    local q_elems = kernels.mul(p.batch_size, p.q_len, p.embed_dim)
    local scores = kernels.mul(p.batch_size, p.num_heads, p.q_len, key_positions(p))
    local biases = p.bias and kernels.add(q_elems, q_elems, kernels.mul(p.batch_size, p.key_len, p.embed_dim, 2)) or 0
    return kernels.add(matmuls(p), q_elems, kernels.elementwise(scores, C.softmax), biases)
  end,

  memory = function (p)
    check(p)
    local q = kernels.mul(p.batch_size, p.q_len, p.embed_dim)
    local kv = kernels.mul(p.batch_size, p.key_len, p.kdim + p.vdim)
    local scores = kernels.mul(p.batch_size, p.num_heads, p.q_len, key_positions(p))
    local w = kernels.bytes(weights(p), p.w_bits)
    -- the projected Q, K, V, the scores and probabilities, the heads' output before out_proj
    local inter = kernels.add(q, kernels.mul(p.batch_size, key_positions(p), p.embed_dim, 2), scores, scores, q)
    return { reads = kernels.add(kernels.bytes(kernels.add(q, kv), p.a_bits), w), writes = kernels.bytes(q, p.a_bits),
             intermediates = kernels.bytes(inter, p.a_bits), weights = w }
  end,

  backward = function (p)
    check(p)
    local m = matmuls(p)
    local scores = kernels.mul(p.batch_size, p.num_heads, p.q_len, key_positions(p))
    return { flops = kernels.add(m, m, kernels.elementwise(scores, kernels.BACKWARD_COST.softmax)),
             matmul_flops = kernels.add(m, m) }
  end,

  sample_parameters = function ()
    return {
      -- ViT-B/16's self-attention: 197 tokens, 768 wide, 12 heads
      { batch_size = 2, q_len = 197, key_len = 197, embed_dim = 768, num_heads = 12, kdim = 768, vdim = 768,
        bias = true, add_bias_kv = false, add_zero_attn = false, a_bits = 16, w_bits = 16 },
      -- cross-attention with other key/value widths, bias_k/bias_v and a zero position
      { batch_size = 3, q_len = 5, key_len = 7, embed_dim = 8, num_heads = 2, kdim = 6, vdim = 4,
        bias = false, add_bias_kv = true, add_zero_attn = true, a_bits = 8, w_bits = 4 },
    }
  end,
}
