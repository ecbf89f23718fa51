-- transformers.cache_utils.StaticCache: one layer's KV-cache write; a copy, so no FLOPs, and the
-- cache it holds afterwards as state. Every figure below is worked out by hand.
local lmp = require "lmp"

local NAME = "transformers.cache_utils.StaticCache"

describe("transformers.cache_utils.StaticCache", function ()
  -- one Llama-2-7B layer (32 KV heads of 128), prefill of 2048 tokens into an empty cache
  local prefill = { batch_size = 1, num_kv_heads = 32, head_dim = 128, new_tokens = 2048, cached_tokens = 0 }

  it("computes nothing and owns no parameters", function ()
    assert.are.equal(0, lmp.compute_flops(NAME, prefill))
    assert.are.equal(0, lmp.compute_matmul_flops(NAME, prefill))
    assert.are.equal(0, lmp.compute_params(NAME, prefill))
  end)

  it("reads the new K and V and writes them into the cache", function ()
    local m = lmp.compute_memory(NAME, prefill)
    -- K: 32*2048*128 = 8,388,608 el * 2 B = 16,777,216; V the same: 33,554,432 read and written
    assert.are.equal(33554432, m.reads)
    assert.are.equal(33554432, m.writes)
    assert.are.equal(0, m.intermediates)
    assert.are.equal(0, m.weights)
    -- after the call the cache holds the 2048 tokens: the same 33,554,432 B
    assert.are.equal(33554432, m.state)
  end)

  it("holds every cached token after a decode step, at the cache's own width", function ()
    -- 4 sequences, 8 KV heads of 128, 1 new token over 4095 cached, 8-bit cache, 16-bit activations
    local m = lmp.compute_memory(NAME, { batch_size = 4, num_kv_heads = 8, head_dim = 128, new_tokens = 1,
                                         cached_tokens = 4095, a_bits = 16, kv_bits = 8 })
    -- new K: 4*8*1*128 = 4,096 el; read at 2 B: 8,192, K and V 16,384; written at 1 B: 4,096 each, 8,192
    assert.are.equal(16384, m.reads)
    assert.are.equal(8192, m.writes)
    -- state: 4*8*(4095 + 1)*128 = 16,777,216 el * 1 B, K and V: 33,554,432
    assert.are.equal(33554432, m.state)
  end)

  it("gives a Llama-2-7B layer 64 MiB of cache at 4096 tokens", function ()
    -- 2 * 32*4096*128 el * 2 B = 2 * 33,554,432 = 67,108,864 B = 64 MiB (2 GiB over 32 layers)
    assert.are.equal(67108864, lmp.compute_memory(NAME, { batch_size = 1, num_kv_heads = 32, head_dim = 128,
                                                         new_tokens = 1, cached_tokens = 4095 }).state)
  end)

  it("rounds each odd 4-bit tensor up to whole bytes", function ()
    local m = lmp.compute_memory(NAME, { batch_size = 3, num_kv_heads = 1, head_dim = 5, new_tokens = 7,
                                         cached_tokens = 2, a_bits = 4, kv_bits = 4 })
    -- new K: 3*1*7*5 = 105 el * 4 bits = 52.5 B -> 53; K and V: 106 read, 106 written
    assert.are.equal(106, m.reads)
    assert.are.equal(106, m.writes)
    -- cache: 3*1*(2 + 7)*5 = 135 el * 4 bits = 67.5 B -> 68; K and V: 136
    assert.are.equal(136, m.state)
  end)

  it("keeps an untouched cache when no token is new", function ()
    local m = lmp.compute_memory(NAME, { batch_size = 2, num_kv_heads = 4, head_dim = 64, new_tokens = 0,
                                         cached_tokens = 10 })
    assert.are.equal(0, m.reads)
    assert.are.equal(0, m.writes)
    -- 2 * 2*4*10*64 el * 2 B = 2 * 10,240 = 20,480
    assert.are.equal(20480, m.state)
  end)

  it("caches one tensor a token with values = false (DeepSeek's MLA latent)", function ()
    -- DeepSeek-V3 layer: latent 512 + rope key 64 = 576 values, one head; 1 new token over 4095 cached
    local m = lmp.compute_memory(NAME, { batch_size = 2, num_kv_heads = 1, head_dim = 576, new_tokens = 1,
                                         cached_tokens = 4095, values = false })
    -- new: 2*1*1*576 = 1,152 el * 2 B = 2,304 read and written (no V)
    assert.are.same({ 2304, 2304 }, { m.reads, m.writes })
    -- state: 2*4096*576 = 4,718,592 el * 2 B = 9,437,184
    assert.are.equal(9437184, m.state)
  end)

  it("has no backward pass: training runs without a cache", function ()
    assert.are.same({ flops = 0, matmul_flops = 0 }, lmp.compute_backward(NAME, prefill))
    assert.are.same({ flops = 0, matmul_flops = 0 }, lmp.compute_backward(NAME,
      { batch_size = 0, num_kv_heads = 1, head_dim = 1, new_tokens = 0, cached_tokens = 0 }))
  end)

  it("answers to its db key", function ()
    -- 2 * 1*1*1*2 el * 2 B = 8 written
    assert.are.equal(8, lmp.compute_memory("transformers_StaticCache", { batch_size = 1, num_kv_heads = 1, head_dim = 2,
                                                                        new_tokens = 1, cached_tokens = 0 }).writes)
  end)

  it("rejects a missing or out-of-range parameter", function ()
    assert.error_matches(function ()
      lmp.compute_memory(NAME, { batch_size = 1, num_kv_heads = 8, head_dim = 128, new_tokens = 1 })
    end, "cached_tokens")
    assert.has_error(function ()
      lmp.compute_memory(NAME, { batch_size = 1, num_kv_heads = 0, head_dim = 128, new_tokens = 1, cached_tokens = 0 })
    end)
  end)
end)
