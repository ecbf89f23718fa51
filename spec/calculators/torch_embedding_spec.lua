-- torch.nn.modules.sparse.Embedding: a gather of N rows; every figure below is worked out by hand.
local lmp = require "lmp"

local NAME = "torch.nn.modules.sparse.Embedding"

describe("torch.nn.modules.sparse.Embedding", function ()
  -- Llama-2-7B embed_tokens: 32000 x 4096, 2048 tokens
  local embed = { N = 2048, num_embeddings = 32000, embedding_dim = 4096 }

  it("does no arithmetic", function ()
    assert.are.equal(0, lmp.compute_flops(NAME, embed))
    assert.are.equal(0, lmp.compute_matmul_flops(NAME, embed))
  end)

  it("counts the whole table as parameters", function ()
    -- 32000*4096 = 131,072,000
    assert.are.equal(131072000, lmp.compute_params(NAME, embed))
  end)

  it("reads int64 indices and the gathered rows only", function ()
    local m = lmp.compute_memory(NAME, embed)
    -- indices 2048*8 = 16,384 B; rows 2048*4096*2 B = 16,777,216; sum 16,793,600
    assert.are.equal(16793600, m.reads)
    -- output 2048*4096*2 = 16,777,216
    assert.are.equal(16777216, m.writes)
    assert.are.equal(0, m.intermediates)
  end)

  it("rounds odd 4-bit rows up to whole bytes", function ()
    local m = lmp.compute_memory(NAME, { N = 3, num_embeddings = 10, embedding_dim = 5, w_bits = 4, a_bits = 4 })
    -- indices 3*8 = 24; rows 3*5 = 15 el * 4 bits = 7.5 B -> 8; 24 + 8 = 32
    assert.are.equal(32, m.reads)
    -- output 15 el * 4 bits -> 8
    assert.are.equal(8, m.writes)
  end)

  it("keeps the index width at 8 bytes whatever the weight width", function ()
    local m = lmp.compute_memory(NAME, { N = 10, num_embeddings = 100, embedding_dim = 8, w_bits = 8, a_bits = 8 })
    -- indices 10*8 = 80; rows 10*8*1 = 80; sum 160
    assert.are.equal(160, m.reads)
  end)

  it("rejects a missing or out-of-range parameter", function ()
    assert.error_matches(function ()
      lmp.compute_params(NAME, { N = 1, embedding_dim = 4 })
    end, "num_embeddings")
    assert.has_error(function ()
      lmp.compute_params(NAME, { N = 1, num_embeddings = 10, embedding_dim = 0 })
    end)
  end)
  it("counts the gathered rows as the weights it reads", function ()
    -- 2048 rows * 4096 * 2 B = 16,777,216 of the 16,793,600 B read (the rest is indices)
    assert.are.equal(16777216, lmp.compute_memory(NAME, embed).weights)
    -- 3*5 = 15 el * 4 bits = 7.5 B -> 8
    assert.are.equal(8, lmp.compute_memory(NAME,
      { N = 3, num_embeddings = 10, embedding_dim = 5, w_bits = 4, a_bits = 4 }).weights)
  end)

  it("prices the backward pass as a scatter-add of the output gradient", function ()
    -- 2048*4096 = 8,388,608 adds into dW; the indices take no gradient
    assert.are.same({ flops = 8388608, matmul_flops = 0 }, lmp.compute_backward(NAME, embed))
    -- no tokens: nothing read from the table, nothing to scatter
    local none = { N = 0, num_embeddings = 10, embedding_dim = 4 }
    assert.are.same({ flops = 0, matmul_flops = 0 }, lmp.compute_backward(NAME, none))
    assert.are.equal(0, lmp.compute_memory(NAME, none).weights)
  end)
end)
