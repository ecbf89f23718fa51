-- transformers Mamba2Mixer.ssd: the chunked SSD (a prefill) or one recurrence step (a token over a cache);
-- every figure worked by hand from the counts in modules_lua/transformers_ssd.lua's header.
local lmp = require "lmp"

local NAME = "transformers.models.mamba2.modeling_mamba2.Mamba2Mixer.ssd"

-- a Mamba-Codestral-7B layer: H 128 heads of P 64, state N 128, 8 groups, chunk Q 256
local function codestral(batch, seq, kv, extra)
  local p = { batch_size = batch, seq_len = seq, kv_len = kv, num_heads = 128, head_dim = 64, state_size = 128,
              n_groups = 8, chunk_size = 256 }
  for k, v in pairs(extra or {}) do p[k] = v end
  return p
end

describe(NAME, function ()
  it("prices a 128-token prefill as one padded chunk", function ()
    local p = codestral(1, 128, 0)
    -- Tp 256, c 1. contractions 2 * 128 * (256*256*128 + 256*256*64 + 2*256*64*128 + (1+1)^2 * 64*128)
    --   = 256 * (8,388,608 + 4,194,304 + 4,194,304 + 32,768) = 256 * 16,809,984 = 4,303,355,904
    assert.are.equal(4303355904, lmp.compute_matmul_flops(NAME, p))
    -- elementwise 128 * (128 * (7 + 64) + 256 * (4 + 5*256 + 128 + 4*64) + 4 * 2^2)
    --   = 128 * (9,088 + 427,008 + 16) = 128 * 436,112 = 55,822,336 -> 4,359,178,240
    assert.are.equal(4359178240, lmp.compute_flops(NAME, p))
    assert.are.equal(0, lmp.compute_params(NAME, p))
    local m = lmp.compute_memory(NAME, p)
    -- reads x, dt, B, C: 128 * (128*64 + 128 + 2*8*128) = 128 * 10,368 = 1,327,104 el * 2 B = 2,654,208;
    --   dt_bias, A_log, D 3 * 128 * 2 B = 768 -> 2,654,976
    assert.are.same({ 2654976, 768 }, { m.reads, m.weights })
    -- writes y 128 * 128 * 64 * 2 B = 2,097,152
    assert.are.equal(2097152, m.writes)
    -- L, G, M 3 * 256 * 256, states 2 * 2 * 64 * 128, Y_diag, Y_off 2 * 256 * 64 per head:
    --   128 * (196,608 + 32,768 + 32,768) = 33,554,432 el * 2 B = 67,108,864
    assert.are.equal(67108864, m.intermediates)
    assert.are.equal(0, m.state)
  end)

  it("pads a prefill to whole chunks", function ()
    -- batch 2, 1000 tokens: c 4, Tp 1024. contractions 2 * 256 * (1024*256*128 + 1024*256*64 + 2*1024*64*128
    --   + 5^2 * 64*128) = 512 * (33,554,432 + 16,777,216 + 16,777,216 + 204,800) = 512 * 67,313,664
    --   = 34,464,595,968, as for 1024 tokens
    assert.are.equal(34464595968, lmp.compute_matmul_flops(NAME, codestral(2, 1000, 0)))
    assert.are.equal(34464595968, lmp.compute_matmul_flops(NAME, codestral(2, 1024, 0)))
    -- elementwise 256 * (1000 * 71 + 1024 * 1668 + 4 * 25) = 256 * 1,779,132 = 455,457,792
    assert.are.equal(34464595968 + 455457792, lmp.compute_flops(NAME, codestral(2, 1000, 0)))
  end)

  it("prices a decode step as one recurrence step, whatever kv_len", function ()
    -- batch 4: bmm 2 * 4*128 * 64 * 128 = 8,388,608;
    --   elementwise 512 * (8 * 64 + 6 * 64 * 128) = 512 * 49,664 = 25,427,968 -> 33,816,576
    for _, kv in ipairs({ 1, 4095, 1 << 30 }) do
      local p = codestral(4, 1, kv, { kv_bits = 8 })
      assert.are.equal(8388608, lmp.compute_matmul_flops(NAME, p))
      assert.are.equal(33816576, lmp.compute_flops(NAME, p))
      local m = lmp.compute_memory(NAME, p)
      -- reads 4 * 10,368 el * 2 B = 82,944, weights 768, the state 512 * 64 * 128 = 4,194,304 el at 1 B
      --   -> 4,278,016; intermediates dA, dB, dBx 3 * 4,194,304 el * 2 B = 25,165,824
      assert.are.same({ 4278016, 768, 25165824 }, { m.reads, m.weights, m.intermediates })
    end
  end)

  it("runs the chunked SSD for several tokens over a cache", function ()
    -- 2 tokens over 10: the chunked path with the cached state carried in: contractions as a 128-token
    -- prefill (one chunk of 256), 4,303,355,904; elementwise 128 * (2 * 71 + 256 * 1668 + 16) = 54,677,248
    local p = codestral(1, 2, 10)
    assert.are.equal(4303355904, lmp.compute_matmul_flops(NAME, p))
    assert.are.equal(4303355904 + 54677248, lmp.compute_flops(NAME, p))
  end)

  it("prices the backward pass of the chunked path", function ()
    -- 2 * 4,303,355,904 = 8,606,711,808 matmul; + 2 * 55,822,336 elementwise = 8,718,356,480
    assert.are.same({ flops = 8718356480, matmul_flops = 8606711808 }, lmp.compute_backward(NAME, codestral(1, 128, 0)))
  end)

  it("refuses groups that do not divide the heads", function ()
    assert.error_matches(function () lmp.compute_flops(NAME, codestral(1, 8, 0, { n_groups = 3 })) end,
      "num_heads must be a multiple of n_groups")
  end)
end)
