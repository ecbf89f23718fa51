-- transformers apply_rotary_pos_emb: x*cos + rotate_half(x)*sin on q and k, 3 FLOPs per element.
local lmp = require "lmp"

local NAME = "transformers.models.llama.modeling_llama.apply_rotary_pos_emb"

describe("transformers.models.llama.modeling_llama.apply_rotary_pos_emb", function ()
  -- Llama-2-7B prefill: 32 query and 32 key heads of 128, 2048 tokens
  local prefill = { batch_size = 1, seq_len = 2048, num_heads = 32, num_kv_heads = 32, head_dim = 128 }

  it("counts 3 FLOPs per element of q and k", function ()
    -- 3 * 1*2048*128 * (32 + 32) = 3 * 262,144 * 64 = 50,331,648
    assert.are.equal(50331648, lmp.compute_flops(NAME, prefill))
    assert.are.equal(0, lmp.compute_matmul_flops(NAME, prefill))
    assert.are.equal(0, lmp.compute_params(NAME, prefill))
  end)

  it("reads q, k and the cos/sin tables, writes q and k", function ()
    local m = lmp.compute_memory(NAME, prefill)
    -- q 32*2048*128 = 8,388,608 el * 2 B = 16,777,216; k the same; cos and sin 2048*128*2 B = 524,288 each
    -- 16,777,216 * 2 + 524,288 * 2 = 33,554,432 + 1,048,576 = 34,603,008
    assert.are.equal(34603008, m.reads)
    assert.are.equal(33554432, m.writes)
    assert.are.equal(0, m.intermediates)
  end)

  it("counts fewer key heads under grouped-query attention", function ()
    local p = { batch_size = 2, seq_len = 1, num_heads = 32, num_kv_heads = 8, head_dim = 128 }
    -- 3 * 2*1*128 * (32 + 8) = 3 * 256 * 40 = 30,720
    assert.are.equal(30720, lmp.compute_flops(NAME, p))
    local m = lmp.compute_memory(NAME, p)
    -- q 2*32*128 = 8,192 el -> 16,384 B; k 2*8*128 = 2,048 el -> 4,096 B; cos, sin 128 el -> 256 B each
    -- 16,384 + 4,096 + 512 = 20,992
    assert.are.equal(20992, m.reads)
    -- 16,384 + 4,096 = 20,480
    assert.are.equal(20480, m.writes)
  end)

  it("rounds each odd 4-bit tensor up to whole bytes", function ()
    local p = { batch_size = 1, seq_len = 3, num_heads = 1, num_kv_heads = 1, head_dim = 3, a_bits = 4 }
    -- 3 * 1*3*3 * (1 + 1) = 54
    assert.are.equal(54, lmp.compute_flops(NAME, p))
    local m = lmp.compute_memory(NAME, p)
    -- q, k, cos, sin: 9 el each * 4 bits = 4.5 B -> 5; reads 4 * 5 = 20, writes 2 * 5 = 10
    assert.are.equal(20, m.reads)
    assert.are.equal(10, m.writes)
  end)

  it("answers to its db key", function ()
    -- 3 * 1*1*2 * (1 + 1) = 12
    assert.are.equal(12, lmp.compute_flops("transformers_apply_rotary_pos_emb",
      { batch_size = 1, seq_len = 1, num_heads = 1, num_kv_heads = 1, head_dim = 2 }))
  end)

  it("rejects a missing or out-of-range parameter", function ()
    assert.error_matches(function ()
      lmp.compute_flops(NAME, { batch_size = 1, seq_len = 1, num_heads = 1, num_kv_heads = 1 })
    end, "head_dim")
    assert.has_error(function ()
      lmp.compute_flops(NAME, { batch_size = 1, seq_len = 1, num_heads = 0, num_kv_heads = 1, head_dim = 2 })
    end)
  end)
  it("prices the backward pass as the inverse rotation of the q and k gradients", function ()
    -- BACKWARD_COST.rotary = 3: 3 * 1*2048*128 * (32 + 32) = 50,331,648
    assert.are.same({ flops = 50331648, matmul_flops = 0 }, lmp.compute_backward(NAME, prefill))
    -- grouped: 3 * 2*1*128 * (32 + 8) = 30,720
    assert.are.same({ flops = 30720, matmul_flops = 0 }, lmp.compute_backward(NAME,
      { batch_size = 2, seq_len = 1, num_heads = 32, num_kv_heads = 8, head_dim = 128 }))
    -- no tokens: 0
    assert.are.same({ flops = 0, matmul_flops = 0 }, lmp.compute_backward(NAME,
      { batch_size = 2, seq_len = 0, num_heads = 32, num_kv_heads = 8, head_dim = 128 }))
  end)
end)
