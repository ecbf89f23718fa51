-- transformers LlamaRMSNorm: 4 FLOPs per element (rmsnorm 3 + weight 1); figures worked by hand.
local lmp = require "lmp"

local NAME = "transformers.models.llama.modeling_llama.LlamaRMSNorm"

describe("transformers.models.llama.modeling_llama.LlamaRMSNorm", function ()
  -- Llama-2-7B input_layernorm over 2048 tokens
  local norm = { N = 2048, hidden_size = 4096 }

  it("counts a Llama-2-7B input_layernorm at N=2048", function ()
    -- 2048*4096 = 8,388,608 elements * 4 = 33,554,432
    assert.are.equal(33554432, lmp.compute_flops(NAME, norm))
    assert.are.equal(0, lmp.compute_matmul_flops(NAME, norm))
    assert.are.equal(4096, lmp.compute_params(NAME, norm))
    local m = lmp.compute_memory(NAME, norm)
    -- input 8,388,608*2 = 16,777,216; weight 4096*2 = 8,192; sum 16,785,408
    assert.are.equal(16785408, m.reads)
    assert.are.equal(16777216, m.writes)
    assert.are.equal(0, m.intermediates)
  end)

  it("counts a decode step of 4 sequences", function ()
    -- 4*4096 = 16,384 elements * 4 = 65,536
    assert.are.equal(65536, lmp.compute_flops(NAME, { N = 4, hidden_size = 4096 }))
  end)

  it("answers to its db key", function ()
    -- 1*8*4 = 32
    assert.are.equal(32, lmp.compute_flops("transformers_LlamaRMSNorm", { N = 1, hidden_size = 8 }))
  end)

  it("rounds odd 4-bit counts up to whole bytes", function ()
    local m = lmp.compute_memory(NAME, { N = 1, hidden_size = 4097, a_bits = 4, w_bits = 4 })
    -- input 4097 el * 4 bits = 2048.5 B -> 2049; weight the same -> 2049; sum 4,098
    assert.are.equal(4098, m.reads)
    assert.are.equal(2049, m.writes)
  end)

  it("rejects a missing or out-of-range parameter", function ()
    assert.error_matches(function ()
      lmp.compute_flops(NAME, { N = 2048 })
    end, "hidden_size")
    assert.has_error(function ()
      lmp.compute_flops(NAME, { N = 1, hidden_size = 0 })
    end)
  end)
  it("says which of its reads are weights", function ()
    -- 4096 * 2 B = 8,192 of the 16,785,408 B read
    assert.are.equal(8192, lmp.compute_memory(NAME, norm).weights)
    -- 4097 el * 4 bits = 2048.5 B -> 2049
    assert.are.equal(2049, lmp.compute_memory(NAME, { N = 1, hidden_size = 4097, a_bits = 4, w_bits = 4 }).weights)
  end)

  it("prices the backward pass: input gradient 6 + weight gradient 2 per element", function ()
    -- 8,388,608 elements * 8 = 67,108,864
    assert.are.same({ flops = 67108864, matmul_flops = 0 }, lmp.compute_backward(NAME, norm))
    -- decode-sized: 4*4096 = 16,384 * 8 = 131,072; no rows: 0
    assert.are.same({ flops = 131072, matmul_flops = 0 }, lmp.compute_backward(NAME, { N = 4, hidden_size = 4096 }))
    assert.are.same({ flops = 0, matmul_flops = 0 }, lmp.compute_backward(NAME, { N = 0, hidden_size = 4096 }))
  end)

  it("reads no weights with no rows (a layer that does not run in this step)", function ()
    local none = { N = 0, hidden_size = 4096 }
    -- still 4096 parameters; input 0*4096 = 0 el, the weight not read; output 0 el
    assert.are.equal(4096, lmp.compute_params(NAME, none))
    local m = lmp.compute_memory(NAME, none)
    assert.are.equal(0, m.reads)
    assert.are.equal(0, m.weights)
    assert.are.equal(0, m.writes)
  end)
end)
