-- torch.nn.functional.scaled_dot_product_attention: QK^T and PV products plus scale, softmax, mask.
local lmp = require "lmp"

local NAME = "torch.nn.functional.scaled_dot_product_attention"

describe("torch.nn.functional.scaled_dot_product_attention", function ()
  -- one Llama-2-7B layer, prefill of 2048 tokens, causal
  local prefill = { batch_size = 1, num_heads = 32, num_kv_heads = 32, q_len = 2048, key_len = 2048,
                    head_dim = 128, masked = true, attention = 0 } -- eager (attention = 0)

  it("counts QK^T and PV as FlopCounterMode does", function ()
    -- 4*1*32*2048*2048*128 = 128 * 4,194,304 * 128 = 68,719,476,736
    assert.are.equal(68719476736, lmp.compute_matmul_flops(NAME, prefill))
  end)

  it("adds scale, softmax and mask over the dense score matrix", function ()
    -- scores 32*2048*2048 = 134,217,728; * (1 + 5 + 1) = 939,524,096
    -- 68,719,476,736 + 939,524,096 = 69,659,000,832
    assert.are.equal(69659000832, lmp.compute_flops(NAME, prefill))
    assert.are.equal(0, lmp.compute_params(NAME, prefill))
  end)

  it("reads Q, K, V, writes the output and materialises scores and probabilities", function ()
    local m = lmp.compute_memory(NAME, prefill)
    -- Q 32*2048*128 = 8,388,608 el * 2 B = 16,777,216; K and V the same, 33,554,432; sum 50,331,648
    assert.are.equal(50331648, m.reads)
    assert.are.equal(16777216, m.writes)
    -- 2 * 134,217,728 * 2 B = 536,870,912
    assert.are.equal(536870912, m.intermediates)
  end)

  it("prices a grouped-query decode step with an 8-bit KV cache", function ()
    -- Llama-2-70B-like: 64 query heads share 8 KV heads; 4 sequences, 1 new token over 4096 keys
    local p = { batch_size = 4, num_heads = 64, num_kv_heads = 8, q_len = 1, key_len = 4096,
                head_dim = 128, masked = false, a_bits = 16, kv_bits = 8, attention = 0 }
    -- 4*4*64*1*4096*128 = 1024 * 524,288 = 536,870,912
    assert.are.equal(536870912, lmp.compute_matmul_flops(NAME, p))
    -- scores 4*64*4096 = 1,048,576 * (1 + 5) = 6,291,456; + 536,870,912 = 543,162,368
    assert.are.equal(543162368, lmp.compute_flops(NAME, p))
    local m = lmp.compute_memory(NAME, p)
    -- Q 4*64*128 = 32,768 el * 2 B = 65,536; K 4*8*4096*128 = 16,777,216 el * 1 B, V the same
    -- 65,536 + 2 * 16,777,216 = 33,619,968
    assert.are.equal(33619968, m.reads)
    assert.are.equal(65536, m.writes)
    -- 2 * 1,048,576 * 2 B = 4,194,304
    assert.are.equal(4194304, m.intermediates)
  end)

  it("rounds odd 4-bit tensors up to whole bytes", function ()
    local p = { batch_size = 1, num_heads = 3, num_kv_heads = 1, q_len = 1, key_len = 5, head_dim = 3,
                masked = true, a_bits = 4, kv_bits = 4, attention = 0 }
    -- 4*3*1*5*3 = 180 matmul; scores 3*5 = 15 * 7 = 105; 285 in all
    assert.are.equal(180, lmp.compute_matmul_flops(NAME, p))
    assert.are.equal(285, lmp.compute_flops(NAME, p))
    local m = lmp.compute_memory(NAME, p)
    -- Q 9 el * 4 bits = 4.5 B -> 5; K 15 el -> 7.5 B -> 8, V 8; 5 + 16 = 21
    assert.are.equal(21, m.reads)
    assert.are.equal(5, m.writes)
    -- scores 15 el -> 8 B, twice = 16
    assert.are.equal(16, m.intermediates)
  end)

  it("prices values of their own head size (v_head_dim, DeepSeek's MLA)", function ()
    -- DeepSeek-V3 layer, 128 tokens: 128 heads, scores over 192 (nope 128 + rope 64), values of 128
    local p = { batch_size = 1, num_heads = 128, num_kv_heads = 128, q_len = 128, key_len = 128,
                head_dim = 192, v_head_dim = 128, masked = true, attention = 0 }
    -- QK^T 2*128*128*128*192 = 805,306,368; PV 2*128*128*128*128 = 536,870,912; 1,342,177,280
    assert.are.equal(1342177280, lmp.compute_matmul_flops(NAME, p))
    -- scores 128*128*128 = 2,097,152 * 7 = 14,680,064; 1,356,857,344
    assert.are.equal(1356857344, lmp.compute_flops(NAME, p))
    local m = lmp.compute_memory(NAME, p)
    -- Q and K 128*128*192 = 3,145,728 el * 2 B = 6,291,456 each; V 128*128*128 = 2,097,152 el, 4,194,304 B
    assert.are.equal(6291456 * 2 + 4194304, m.reads)
    assert.are.equal(4194304, m.writes) -- the output has 128 values a head
    -- backward: dV, dP over 128 and dQ, dK over 192: 2 * 1,342,177,280 = 2,684,354,560; scores * 5 = 10,485,760
    assert.are.same({ flops = 2684354560 + 10485760, matmul_flops = 2684354560 }, lmp.compute_backward(NAME, p))
    -- 0 (the default) is head_dim: the same as leaving it out
    local same = { batch_size = 1, num_heads = 2, num_kv_heads = 1, q_len = 3, key_len = 5, head_dim = 8, masked = false, attention = 0 }
    local zero = { v_head_dim = 0 }
    for k, v in pairs(same) do zero[k] = v end
    assert.are.equal(lmp.compute_flops(NAME, same), lmp.compute_flops(NAME, zero))
  end)

  it("answers to its db key", function ()
    -- 4*1*1*1*1*1 = 4, + 1*(1 + 5) = 10
    assert.are.equal(10, lmp.compute_flops("torch_scaled_dot_product_attention",
      { batch_size = 1, num_heads = 1, num_kv_heads = 1, q_len = 1, key_len = 1, head_dim = 1, masked = false, attention = 0 }))
  end)

  it("rejects query heads that are not a multiple of the KV heads", function ()
    local p = { batch_size = 1, num_heads = 32, num_kv_heads = 5, q_len = 1, key_len = 1, head_dim = 128, masked = false, attention = 0 }
    assert.error_matches(function () lmp.compute_flops(NAME, p) end, "multiple of num_kv_heads")
    assert.error_matches(function () lmp.compute_memory(NAME, p) end, "multiple of num_kv_heads")
  end)

  it("rejects a missing parameter", function ()
    assert.error_matches(function ()
      lmp.compute_flops(NAME, { batch_size = 1, num_heads = 1, num_kv_heads = 1, q_len = 1, key_len = 1, masked = true, attention = 0 })
    end, "head_dim")
  end)
  it("prices the backward pass: four products and the per-score softmax and scale backward", function ()
    -- dV = P^T dO, dP = dO V^T, dQ = dS K, dK = dS^T Q: 8*1*32*2048*2048*128 = 2 * 68,719,476,736 = 137,438,953,472
    -- per score softmax 4 + scale 1 + mask 0 = 5: 134,217,728 * 5 = 671,088,640; 138,110,042,112 in all
    assert.are.same({ flops = 138110042112, matmul_flops = 137438953472 }, lmp.compute_backward(NAME, prefill))
  end)

  it("sums the gradients of shared K and V heads over their groups", function ()
    -- Llama-3-8B-like training step: 32 query heads on 8 KV heads, 4096 tokens, causal
    local p = { batch_size = 1, num_heads = 32, num_kv_heads = 8, q_len = 4096, key_len = 4096,
                head_dim = 128, masked = true, attention = 0 }
    -- products 8*32*4096*4096*128 = 549,755,813,888
    -- scores 32*4096*4096 = 536,870,912 * 5 = 2,684,354,560
    -- group sums of dK and dV: 2 * 1*(32 - 8)*4096*128 = 25,165,824
    -- 549,755,813,888 + 2,684,354,560 + 25,165,824 = 552,465,334,272
    assert.are.same({ flops = 552465334272, matmul_flops = 549755813888 }, lmp.compute_backward(NAME, p))
  end)

  it("prices the backward of the smallest and of an odd grouped shape", function ()
    -- one score, head_dim 1: 8 product FLOPs + 5 per score = 13
    assert.are.same({ flops = 13, matmul_flops = 8 }, lmp.compute_backward(NAME,
      { batch_size = 1, num_heads = 1, num_kv_heads = 1, q_len = 1, key_len = 1, head_dim = 1, masked = true, attention = 0 }))
    -- 3 heads on 1 KV head, 1 query over 5 keys, d = 3: products 8*3*1*5*3 = 360; scores 15 * 5 = 75;
    -- group sums 2 * 1*(3 - 1)*5*3 = 60; 495
    assert.are.same({ flops = 495, matmul_flops = 360 }, lmp.compute_backward(NAME,
      { batch_size = 1, num_heads = 3, num_kv_heads = 1, q_len = 1, key_len = 5, head_dim = 3, masked = true, attention = 0 }))
    -- no keys: nothing at all
    assert.are.same({ flops = 0, matmul_flops = 0 }, lmp.compute_backward(NAME,
      { batch_size = 2, num_heads = 4, num_kv_heads = 2, q_len = 0, key_len = 0, head_dim = 8, masked = false, attention = 0 }))
  end)

  describe("fused (attention 1 sdpa, 2 flash: the default is sdpa)", function ()
    local fused = {}
    for k, v in pairs(prefill) do fused[k] = v end
    fused.attention = 2

    it("never stores the scores: reads Q, K, V, writes O and one fp32 log-sum-exp a query row", function ()
      local m = lmp.compute_memory(NAME, fused)
      assert.are.equal(50331648, m.reads) -- as eager
      -- O 16,777,216 + 32 heads * 2048 rows * 4 B = 262,144: 17,039,360
      assert.are.equal(17039360, m.writes)
      assert.are.equal(0, m.intermediates)
      -- the forward FLOPs are eager's
      assert.are.equal(69659000832, lmp.compute_flops(NAME, fused))
      fused.attention = 1
      assert.are.same(m, lmp.compute_memory(NAME, fused))
      fused.attention = nil -- the default: sdpa
      assert.are.same(m, lmp.compute_memory(NAME, fused))
      fused.attention = 2
    end)

    it("recomputes the scores in its backward: 5 products to eager's 4", function ()
      -- eager's 137,438,953,472 + S = Q K^T again 2*32*2048*2048*128 = 34,359,738,368: 171,798,691,840
      -- (FlopCounterMode's fused backward: 5 x 34,359,738,368); per score the backward 5 and the
      -- recomputed forward 1 + 5 + 1 = 12: 134,217,728 * 12 = 1,610,612,736
      assert.are.same({ flops = 171798691840 + 1610612736, matmul_flops = 171798691840 }, lmp.compute_backward(NAME, fused))
    end)
  end)
end)
