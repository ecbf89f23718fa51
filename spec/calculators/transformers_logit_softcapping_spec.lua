-- transformers.models.gemma2.modeling_gemma2.logit_softcapping: cap * tanh(x / cap), Gemma 2's attention
-- scores and final logits (and Gemma 3's logits): divide, tanh, multiply, 3 FLOPs an element.
local lmp = require "lmp"

local NAME = "transformers.models.gemma2.modeling_gemma2.logit_softcapping"
local GEMMA3 = "transformers.models.gemma3.modeling_gemma3.logit_softcapping"

describe(NAME, function ()
  it("counts 3 FLOPs an element, no matmul, no parameters", function ()
    -- gemma-2-2b's scores at 128 tokens: 8 heads * 128 * 128 = 131,072 -> 393,216
    assert.are.equal(393216, lmp.compute_flops(NAME, { numel = 131072 }))
    assert.are.equal(0, lmp.compute_matmul_flops(NAME, { numel = 131072 }))
    assert.are.equal(0, lmp.compute_params(NAME, { numel = 131072 }))
    -- the same function in Gemma 3 is priced by the same file
    assert.are.equal(393216, lmp.compute_flops(GEMMA3, { numel = 131072 }))
  end)

  it("reads and writes numel activations", function ()
    -- the logits of one token, vocab 256000, at 16 bits: 512,000 bytes each way
    local m = lmp.compute_memory(NAME, { numel = 256000 })
    assert.are.equal(512000, m.reads)
    assert.are.equal(512000, m.writes)
    assert.are.equal(0, m.intermediates)
  end)

  it("prices the backward pass at 5 an element: two scalings and tanh's g * (1 - y^2)", function ()
    assert.are.same({ flops = 655360, matmul_flops = 0 }, lmp.compute_backward(NAME, { numel = 131072 }))
  end)
end)
