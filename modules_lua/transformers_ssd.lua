-- transformers.models.mamba2.modeling_mamba2.Mamba2Mixer.ssd: the state-space part of Mamba2Mixer.torch_forward,
-- from the split of the conv output (x, B, C) and dt to y (before the gated norm), for B sequences, H heads of
-- P values, state N, n_groups G (B and C repeated to every head, as torch_forward does), chunk Q.
--   chunked (a prefill, or several new tokens over a cache): the chunked SSD algorithm over the T tokens padded
--     to Tp = ceil(T/Q)*Q, c = Tp/Q chunks (the state carried in is the cache's, or zeros: the same work).
--     Its four contractions are matrix products (2 FLOPs a multiply-add; torch_forward writes them as broadcast
--     products summed, the mamba_ssm kernels as tl.dot): G = C B^T in each chunk 2*Tp*Q*N, Y_diag = (G*L) x
--     2*Tp*Q*P, chunk states B^T x 2*Tp*P*N, the inter-chunk recurrence over c+1 states 2*(c+1)^2*P*N, Y_off =
--     C states 2*Tp*P*N; each times B*H. Elementwise, per head: dt + dt_bias, softplus, clamp (6) and A*dt (1)
--     a token; x*dt a token and value; A_cumsum (1), exp(A_cumsum[-1] - A_cumsum) (2), exp(A_cumsum) (1) a
--     padded token; L = exp(segment_sum(A)) (mask, cumsum, mask, exp: 4) and M = G*L (1) over Tp*Q; B*decay
--     over Tp*N; D*x, Y_off's decay, Y_diag + Y_off, + D*x over Tp*P (4); decay_chunk's segment_sum and exp
--     over (c+1)^2 (4).
--   one step (kv_len > 0 and seq_len 1, torch_forward's cached single-token branch): h = exp(dt*A)*h + dt*B*x,
--     y = C.h + D*x per head: the bmm of h (P x N) by C 2*P*N; dt's add, softplus, clamp on (H, P) (6) and
--     y + x*D (2) per value; dt*A, exp, dt*B, *x, h*dA, + (6) per state element. Independent of kv_len: the
--     state is all a step reads.
-- (transformers main, modeling_mamba2.py torch_forward; the 4.4x releases' Mamba2Cache branches the same way.)
-- A = -exp(A_log) is made once per call (not counted). Parameters: none of its own (dt_bias, A_log and D are
-- the mixer's, counted as Parameter layers); it reads them (3*H) as weights.
local function shape(p)
  if p.num_heads % p.n_groups ~= 0 then error("num_heads must be a multiple of n_groups", 0) end
  local bh = kernels.mul(p.batch_size, p.num_heads)
  local chunks = (p.seq_len + p.chunk_size - 1) // p.chunk_size
  return bh, chunks, kernels.mul(chunks, p.chunk_size)
end

local function recurrent(p) return p.kv_len > 0 and p.seq_len == 1 end

local function matmul_flops(p)
  local P, N, Q = p.head_dim, p.state_size, p.chunk_size
  local bh, c, tp = shape(p)
  if p.seq_len == 0 then return 0 end
  if recurrent(p) then return kernels.matmul(bh, P, N) end
  return kernels.mul(2, bh, kernels.add(kernels.mul(tp, Q, N), kernels.mul(tp, Q, P), kernels.mul(2, tp, P, N),
                                        kernels.mul(c + 1, c + 1, P, N)))
end

local function elementwise(p)
  local P, N, Q, T = p.head_dim, p.state_size, p.chunk_size, p.seq_len
  local bh, c, tp = shape(p)
  if T == 0 then return 0 end
  if recurrent(p) then return kernels.mul(bh, kernels.add(8 * P, kernels.mul(6, P, N))) end
  return kernels.mul(bh, kernels.add(kernels.mul(T, 7 + P), kernels.mul(tp, 4 + 5 * Q + N + 4 * P),
                                     kernels.mul(4, c + 1, c + 1)))
end

return {
  full_class_name = "transformers.models.mamba2.modeling_mamba2.Mamba2Mixer.ssd",

  required_parameters = function ()
    return { batch_size = "int", seq_len = "int", kv_len = "int", num_heads = "posint", head_dim = "posint",
             state_size = "posint", n_groups = "posint", chunk_size = "posint",
             w_bits = "posint", a_bits = "posint", kv_bits = "posint" }
  end,

  params = function (p)
    return 0
  end,

  matmul_flops = matmul_flops,

  flops = function (p) return kernels.add(matmul_flops(p), elementwise(p)) end,

  -- reads x (T*H*P), dt (T*H), B and C (T*G*N each) and, over a cache, its state h at kv_bits;
  -- dt_bias, A_log, D as weights; writes y. Intermediates at a_bits: chunked L, G and M (Tp*Q each a head),
  -- the chunk states and their recurrence's (2*(c+1)*P*N) and Y_diag, Y_off (Tp*P each); a step dA, dB, dBx
  -- (P*N each). The broadcast products torch_forward builds before each sum (C*B: Tp*Q*N a head) and its
  -- float32 copies are not counted: a fused kernel holds neither (as for the norms' float32 temporaries).
  memory = function (p)
    local H, P, N, T = p.num_heads, p.head_dim, p.state_size, p.seq_len
    local bh, c, tp = shape(p)
    if T == 0 then return { reads = 0, writes = 0, intermediates = 0, weights = 0 } end
    local inputs = kernels.mul(p.batch_size, T, kernels.add(kernels.mul(H, P), H, kernels.mul(2, p.n_groups, N)))
    local weights = kernels.bytes(3 * H, p.w_bits)
    local reads = kernels.add(kernels.bytes(inputs, p.a_bits), weights)
    if p.kv_len > 0 then reads = kernels.add(reads, kernels.bytes(kernels.mul(bh, P, N), p.kv_bits)) end
    local inter = recurrent(p) and kernels.mul(3, bh, P, N)
      or kernels.mul(bh, kernels.add(kernels.mul(3, tp, p.chunk_size), kernels.mul(2, c + 1, P, N), kernels.mul(2, tp, P)))
    return { reads = reads, writes = kernels.bytes(kernels.mul(bh, T, P), p.a_bits),
             intermediates = kernels.bytes(inter, p.a_bits), weights = weights }
  end,

  -- training runs the chunked path: each contraction's two operand gradients are products of its size
  -- (2x its matmul FLOPs); each elementwise op is counted at mul's backward cost, 2 (the gradient to each
  -- operand; exp's and cumsum's one-input gradients cost 1, so this bounds them from above)
  backward = function (p)
    local mm = kernels.mul(2, matmul_flops(p))
    return { flops = kernels.add(mm, kernels.mul(kernels.BACKWARD_COST.mul, elementwise(p))), matmul_flops = mm }
  end,

  sample_parameters = function ()
    return {
      -- Mamba-Codestral-7B layer (128 heads of 64, state 128, 8 groups, chunk 256), prefill of 128 tokens
      { batch_size = 1, seq_len = 128, kv_len = 0, num_heads = 128, head_dim = 64, state_size = 128, n_groups = 8,
        chunk_size = 256, w_bits = 16, a_bits = 16, kv_bits = 16 },
      -- the same, 1000 tokens (4 chunks, the last padded), batch 2
      { batch_size = 2, seq_len = 1000, kv_len = 0, num_heads = 128, head_dim = 64, state_size = 128, n_groups = 8,
        chunk_size = 256, w_bits = 16, a_bits = 16, kv_bits = 16 },
      -- decode step over 4095 cached tokens, 8-bit state
      { batch_size = 4, seq_len = 1, kv_len = 4095, num_heads = 128, head_dim = 64, state_size = 128, n_groups = 8,
        chunk_size = 256, w_bits = 16, a_bits = 16, kv_bits = 8 },
      -- small odd sizes, 4-bit
      { batch_size = 3, seq_len = 7, kv_len = 0, num_heads = 3, head_dim = 5, state_size = 3, n_groups = 1,
        chunk_size = 4, w_bits = 4, a_bits = 4, kv_bits = 4 },
    }
  end,
}
