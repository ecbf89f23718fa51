-- torch.nn.modules.activation.GELU: 5 FLOPs per element (erf), 9 with approximate="tanh".
local lmp = require "lmp"

local NAME = "torch.nn.modules.activation.GELU"

describe("torch.nn.modules.activation.GELU", function ()
  -- a GPT-2 MLP activation: 1024 tokens * 3072 features = 3,145,728 elements

  it("counts 5 FLOPs per element for the erf form", function ()
    -- 3,145,728 * 5 = 15,728,640
    assert.are.equal(15728640, lmp.compute_flops(NAME, { numel = 3145728, approximate = "none" }))
    assert.are.equal(0, lmp.compute_matmul_flops(NAME, { numel = 3145728, approximate = "none" }))
    assert.are.equal(0, lmp.compute_params(NAME, { numel = 3145728, approximate = "none" }))
  end)

  it("counts 9 FLOPs per element for the tanh approximation", function ()
    -- 3,145,728 * 9 = 28,311,552
    assert.are.equal(28311552, lmp.compute_flops(NAME, { numel = 3145728, approximate = "tanh" }))
  end)

  it("reads and writes numel activations, rounding 4-bit counts up", function ()
    local m = lmp.compute_memory(NAME, { numel = 3145728, approximate = "tanh" })
    -- 3,145,728 * 2 B = 6,291,456
    assert.are.equal(6291456, m.reads)
    assert.are.equal(6291456, m.writes)
    local m4 = lmp.compute_memory(NAME, { numel = 1023, approximate = "none", a_bits = 4 })
    -- 1023 el * 4 bits = 511.5 B -> 512
    assert.are.equal(512, m4.reads)
    assert.are.equal(512, m4.writes)
  end)

  it("rejects an approximate value outside none/tanh", function ()
    assert.error_matches(function ()
      lmp.compute_flops(NAME, { numel = 10, approximate = "exact" })
    end, "approximate")
  end)
  it("prices the backward pass at 11 per element for erf, 19 for tanh", function ()
    -- 3,145,728 * 11 = 34,603,008; 3,145,728 * 19 = 59,768,832
    assert.are.same({ flops = 34603008, matmul_flops = 0 },
      lmp.compute_backward(NAME, { numel = 3145728, approximate = "none" }))
    assert.are.same({ flops = 59768832, matmul_flops = 0 },
      lmp.compute_backward(NAME, { numel = 3145728, approximate = "tanh" }))
    assert.are.same({ flops = 0, matmul_flops = 0 }, lmp.compute_backward(NAME, { numel = 0, approximate = "tanh" }))
  end)
end)
