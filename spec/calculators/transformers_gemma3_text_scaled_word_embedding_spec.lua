-- transformers.models.gemma3.modeling_gemma3.Gemma3TextScaledWordEmbedding: nn.Embedding's gather, then
-- * embed_scale (sqrt(hidden_size)): 1 FLOP an output element.
local lmp = require "lmp"

local NAME = "transformers.models.gemma3.modeling_gemma3.Gemma3TextScaledWordEmbedding"
local P = { N = 128, num_embeddings = 262144, embedding_dim = 1152 }

describe(NAME, function ()
  it("counts the table's parameters and one multiply an element", function ()
    assert.are.equal(262144 * 1152, lmp.compute_params(NAME, P)) -- 301,989,888
    assert.are.equal(128 * 1152, lmp.compute_flops(NAME, P))     -- 147,456
    assert.are.equal(0, lmp.compute_matmul_flops(NAME, P))
  end)

  it("reads the indices, the gathered rows and the scalar; the gathered rows are an intermediate", function ()
    -- indices 128 * 8 = 1,024; rows 147,456 * 2 = 294,912; the scalar 2: 295,938
    assert.are.same({ reads = 295938, writes = 294912, intermediates = 294912, weights = 294912, state = 0 },
      lmp.compute_memory(NAME, P))
  end)

  it("prices the backward pass: the scale's gradient and the scatter-add, 2 an element", function ()
    assert.are.same({ flops = 294912, matmul_flops = 0 }, lmp.compute_backward(NAME, P))
  end)
end)
