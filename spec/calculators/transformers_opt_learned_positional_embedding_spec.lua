-- transformers OPTLearnedPositionalEmbedding: positions from the mask's cumsum, + offset 2, a gather.
local lmp = require "lmp"

local NAME = "transformers.models.opt.modeling_opt.OPTLearnedPositionalEmbedding"

describe("transformers.models.opt.modeling_opt.OPTLearnedPositionalEmbedding", function ()
  -- OPT-125m prefill of 128 tokens: 2048 + 2 = 2050 rows of 768
  local prefill = { batch_size = 1, seq_len = 128, key_len = 128, num_embeddings = 2050, embedding_dim = 768 }

  it("counts the table as parameters: 2050 * 768", function ()
    -- 2050 * 768 = 1,574,400
    assert.are.equal(1574400, lmp.compute_params(NAME, prefill))
    assert.are.equal(0, lmp.compute_matmul_flops(NAME, prefill))
  end)

  it("counts cumsum, * mask, - 1 over the mask and + offset over the new tokens", function ()
    -- 3 * 1*128 + 1*128 = 384 + 128 = 512
    assert.are.equal(512, lmp.compute_flops(NAME, prefill))
    -- decode: 4 sequences, 1 new token over 99 cached -> mask 4*100: 3 * 400 + 4 = 1,204
    assert.are.equal(1204, lmp.compute_flops(NAME,
      { batch_size = 4, seq_len = 1, key_len = 100, num_embeddings = 2050, embedding_dim = 768 }))
  end)

  it("reads the int64 mask and the gathered rows, writes the rows", function ()
    local m = lmp.compute_memory(NAME, prefill)
    -- mask 128 * 8 = 1,024 B; rows 128 * 768 = 98,304 el * 2 B = 196,608; reads 197,632
    assert.are.equal(197632, m.reads)
    assert.are.equal(196608, m.weights)
    assert.are.equal(196608, m.writes)
    -- positions before and after the slice: 128 * 8 + 128 * 8 = 2,048
    assert.are.equal(2048, m.intermediates)
  end)

  it("prices the backward pass as the weight gradient's scatter-add", function ()
    -- 128 * 768 = 98,304
    assert.are.same({ flops = 98304, matmul_flops = 0 }, lmp.compute_backward(NAME, prefill))
  end)

  it("refuses a mask shorter than the new tokens, and answers to its db key", function ()
    assert.error_matches(function ()
      lmp.compute_flops(NAME, { batch_size = 1, seq_len = 5, key_len = 4, num_embeddings = 10, embedding_dim = 2 })
    end, "key_len")
    -- 3 * 2*3 + 2*3 = 24
    assert.are.equal(24, lmp.compute_flops("transformers_OPTLearnedPositionalEmbedding",
      { batch_size = 2, seq_len = 3, key_len = 3, num_embeddings = 10, embedding_dim = 2 }))
  end)

  it("reads no weights for an empty batch (a layer that does not run in this step)", function ()
    local none = { batch_size = 0, seq_len = 1, key_len = 100, num_embeddings = 2050, embedding_dim = 768 }
    -- still 2050*768 = 1,574,400 parameters; mask 0*100*8 = 0 B, gathered rows 0*1*768 = 0 el: reads 0, weights 0;
    -- output 0 el
    assert.are.equal(1574400, lmp.compute_params(NAME, none))
    local m = lmp.compute_memory(NAME, none)
    assert.are.equal(0, m.reads)
    assert.are.equal(0, m.weights)
    assert.are.equal(0, m.writes)
  end)
end)
