-- torch.nn.functional.scaled_dot_product_attention: softmax(Q K^T * scale [+ mask]) V, per head.
-- matmul_flops = QK^T + PV = 4*B*H*q*key*d (FlopCounterMode's sdpa count); K/V read at kv_bits.
-- v_head_dim (lmp's own, default 0: head_dim) is the values' head size when it differs from the
-- queries' and keys' (DeepSeek's MLA: scores over qk_head_dim 192, values of 128): QK^T is then
-- 2*B*H*q*key*d and PV 2*B*H*q*key*dv, and the output has dv values a head.
-- attention (the run's implementation, lmp's input): 0 eager stores the score and probability
-- matrices; 1 sdpa (PyTorch's fused FlashAttention-2 / memory-efficient kernels) and 2 flash
-- read Q, K and V and write O and the row log-sum-exp (fp32) in tiles, never the scores, and
-- their backward recomputes the scores (5 products, FlopCounterMode's fused backward, to
-- eager's 4).
local EAGER = 0
local function check(p)
  if p.num_heads % p.num_kv_heads ~= 0 then
    error(string.format("num_heads (%d) must be a multiple of num_kv_heads (%d)",
                        p.num_heads, p.num_kv_heads), 0)
  end
end

local function v_dim(p) return p.v_head_dim > 0 and p.v_head_dim or p.head_dim end

-- the backward pass's bytes, gradients at a_bits. Eager: dV = P^T dO and dP = dO V^T read
-- dO twice and P, V; the softmax backward reads dP and P and writes dS; dQ = dS K and
-- dK = dS^T Q read dS twice and K, Q; written: dP, dS, dQ, dK, dV. Fused: D = rowsum(dO * O)
-- reads dO and O and writes D (fp32 a row); the tiled kernel reads Q, K, V, dO, the saved
-- log-sum-exp and D, and writes dQ, dK and dV, never a score.
local function backward_traffic(p)
  local a, kv = p.a_bits, p.kv_bits
  local q = kernels.bytes(kernels.mul(p.batch_size, p.num_heads, p.q_len, p.head_dim), a)
  local k = kernels.bytes(kernels.mul(p.batch_size, p.num_kv_heads, p.key_len, p.head_dim), kv)
  local v = kernels.bytes(kernels.mul(p.batch_size, p.num_kv_heads, p.key_len, v_dim(p)), kv)
  local dq = q
  local dk = kernels.bytes(kernels.mul(p.batch_size, p.num_kv_heads, p.key_len, p.head_dim), a)
  local dv = kernels.bytes(kernels.mul(p.batch_size, p.num_kv_heads, p.key_len, v_dim(p)), a)
  local d_out = kernels.bytes(kernels.mul(p.batch_size, p.num_heads, p.q_len, v_dim(p)), a) -- dO and O alike
  if p.attention == EAGER then
    local s = kernels.bytes(kernels.mul(p.batch_size, p.num_heads, p.q_len, p.key_len), a)
    return kernels.add(kernels.mul(2, d_out), kernels.mul(5, s), v, k, q), kernels.add(kernels.mul(2, s), dq, dk, dv)
  end
  local row = kernels.mul(p.batch_size, p.num_heads, p.q_len, 4) -- one fp32 a query row: lse, D
  return kernels.add(q, k, v, d_out, kernels.mul(2, d_out), kernels.mul(2, row)), kernels.add(dq, dk, dv, row)
end

local function matmuls(p)
  local rows = kernels.mul(p.batch_size, p.num_heads, p.q_len)
  return kernels.add(kernels.matmul(rows, p.head_dim, p.key_len),   -- scores = Q K^T
                     kernels.matmul(rows, p.key_len, v_dim(p)))     -- out = probs V
end

return {
  full_class_name = "torch.nn.functional.scaled_dot_product_attention",

  required_parameters = function ()
    -- masked defaults to the function's: scaled_dot_product_attention(query, key, value,
    -- attn_mask=None, dropout_p=0.0, is_causal=False, ...) applies no mask
    return { batch_size = "int", num_heads = "posint", num_kv_heads = "posint", q_len = "int",
             key_len = "int", head_dim = "posint", masked = { type = "bool", default = false },
             v_head_dim = { type = "int", default = 0 },
             attention = { type = "int", default = 1, min = 0, max = 2 },
             a_bits = "posint", kv_bits = "posint" }
  end,

  params = function (p)
    check(p)
    return 0
  end,

  matmul_flops = function (p)
    check(p)
    return matmuls(p)
  end,

  flops = function (p)
    check(p)
    local C = kernels.COST
    local scores = kernels.mul(p.batch_size, p.num_heads, p.q_len, p.key_len)
    local per = C.scale + C.softmax + (p.masked and C.mask or 0)
    return kernels.add(matmuls(p), kernels.elementwise(scores, per))
  end,

  memory = function (p)
    check(p)
    local q = kernels.mul(p.batch_size, p.num_heads, p.q_len, p.head_dim)
    local k = kernels.mul(p.batch_size, p.num_kv_heads, p.key_len, p.head_dim)
    local v = kernels.mul(p.batch_size, p.num_kv_heads, p.key_len, v_dim(p))
    local out = kernels.mul(p.batch_size, p.num_heads, p.q_len, v_dim(p))
    local scores = kernels.mul(p.batch_size, p.num_heads, p.q_len, p.key_len)
    local reads = kernels.add(kernels.bytes(q, p.a_bits), kernels.bytes(k, p.kv_bits), kernels.bytes(v, p.kv_bits))
    if p.attention == EAGER then
      return { reads = reads, writes = kernels.bytes(out, p.a_bits),
               intermediates = kernels.mul(2, kernels.bytes(scores, p.a_bits)) }  -- scores and probabilities
    end
    local lse = kernels.mul(p.batch_size, p.num_heads, p.q_len, 4) -- one fp32 log-sum-exp a query row
    return { reads = reads, writes = kernels.add(kernels.bytes(out, p.a_bits), lse), intermediates = 0 }
  end,

  -- eager: four products (FlopCounterMode's sdpa backward): dV = P^T dO, dP = dO V^T, dQ = dS K,
  -- dK = dS^T Q, 8*B*H*q*key*d; per score the softmax, scale and mask backward. Fused (sdpa,
  -- flash): first S = Q K^T again and its softmax (the forward's per-score work), then the same
  -- four: 5 products, 2*B*H*q*key*(3d + 2dv). With num_kv_heads < num_heads the gradients of the
  -- shared K and V heads are summed over their groups (B*(H - Hkv)*key*(d + dv) adds).
  backward = function (p)
    check(p)
    local C, F = kernels.BACKWARD_COST, kernels.COST
    local rows = kernels.mul(p.batch_size, p.num_heads, p.q_len)
    local products = kernels.mul(2, matmuls(p))
    local scores = kernels.mul(rows, p.key_len)
    local per = C.scale + C.softmax + (p.masked and C.mask or 0)
    if p.attention ~= EAGER then
      products = kernels.add(products, kernels.matmul(rows, p.head_dim, p.key_len))
      per = per + F.scale + F.softmax + (p.masked and F.mask or 0)
    end
    local group_sum = kernels.mul(p.batch_size, p.num_heads - p.num_kv_heads, p.key_len, kernels.add(p.head_dim, v_dim(p)))
    local reads, writes = backward_traffic(p)
    return { flops = kernels.add(products, kernels.elementwise(scores, per), kernels.elementwise(group_sum, C.add)),
             matmul_flops = products, reads = reads, writes = writes }
  end,

  sample_parameters = function ()
    return {
      { batch_size = 1, num_heads = 32, num_kv_heads = 32, q_len = 2048, key_len = 2048,
        head_dim = 128, masked = true, a_bits = 16, kv_bits = 16, attention = 0 },
      { batch_size = 2, num_heads = 32, num_kv_heads = 8, q_len = 512, key_len = 1024,
        head_dim = 128, masked = true, a_bits = 16, kv_bits = 8, attention = 2 },
      { batch_size = 3, num_heads = 8, num_kv_heads = 2, q_len = 1, key_len = 77,
        head_dim = 64, masked = false, a_bits = 4, kv_bits = 8 },
      -- DeepSeek-V3's MLA decode step: 128 heads, scores over 192, values of 128
      { batch_size = 2, num_heads = 128, num_kv_heads = 128, q_len = 1, key_len = 4096,
        head_dim = 192, v_head_dim = 128, masked = true, a_bits = 16, kv_bits = 16 },
    }
  end,
}
