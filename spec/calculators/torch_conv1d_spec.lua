-- torch.nn.modules.conv.Conv1d: 2*B*out*L_out*(in/groups)*k product FLOPs, bias B*out*L_out.
local lmp = require "lmp"

local NAME = "torch.nn.modules.conv.Conv1d"

local function conv(t)
  local p = { batch_size = 1, stride = 1, padding = 0, dilation = 1, groups = 1, bias = false }
  for k, v in pairs(t) do p[k] = v end
  return p
end

describe("torch.nn.modules.conv.Conv1d", function ()
  -- a wav2vec2 feature-extractor layer: 512 -> 512, k = 3, stride 2, on 3199 positions
  local w2v = conv { in_channels = 512, out_channels = 512, kernel_size = 3, stride = 2, length = 3199 }

  it("counts a wav2vec2 feature-extractor layer", function ()
    -- L_out = (3199 - 1*(3-1) - 1) // 2 + 1 = 3196 // 2 + 1 = 1599
    -- 2*1*512*1599*512*3 = 1,572,864 * 1599 = 2,515,009,536
    assert.are.equal(2515009536, lmp.compute_matmul_flops(NAME, w2v))
    assert.are.equal(2515009536, lmp.compute_flops(NAME, w2v))
    -- 512*512*3 = 786,432
    assert.are.equal(786432, lmp.compute_params(NAME, w2v))
    local m = lmp.compute_memory(NAME, w2v)
    -- input 512*3199*2 = 3,275,776; weights 786,432*2 = 1,572,864; sum 4,848,640
    assert.are.equal(4848640, m.reads)
    -- output 512*1599*2 = 1,637,376
    assert.are.equal(1637376, m.writes)
    assert.are.equal(0, m.intermediates)
  end)

  it("handles groups, padding, dilation and a bias", function ()
    -- depthwise-multiplier conv: 64 -> 128 in 64 groups, k = 5, padding 4, dilation 2
    local p = conv { batch_size = 2, in_channels = 64, out_channels = 128, kernel_size = 5, padding = 4,
                     dilation = 2, groups = 64, bias = true, length = 101, w_bits = 4, a_bits = 8 }
    -- L_out = (101 + 8 - 2*4 - 1) // 1 + 1 = 101; in/groups = 1
    -- 2*2*128*101*1*5 = 512 * 505 = 258,560
    assert.are.equal(258560, lmp.compute_matmul_flops(NAME, p))
    -- + bias 2*128*101 = 25,856 -> 284,416
    assert.are.equal(284416, lmp.compute_flops(NAME, p))
    -- 128*1*5 + 128 = 768
    assert.are.equal(768, lmp.compute_params(NAME, p))
    local m = lmp.compute_memory(NAME, p)
    -- input 2*64*101 = 12,928 el * 1 B; weights 768 el * 4 bits = 384 B; 13,312
    assert.are.equal(13312, m.reads)
    -- output 2*128*101 = 25,856 el * 1 B
    assert.are.equal(25856, m.writes)
  end)

  it("rounds odd 4-bit weights up to whole bytes", function ()
    local p = conv { in_channels = 1, out_channels = 1, kernel_size = 3, length = 3, w_bits = 4, a_bits = 4 }
    -- L_out = 1; 2*1*1*1*1*3 = 6
    assert.are.equal(6, lmp.compute_flops(NAME, p))
    local m = lmp.compute_memory(NAME, p)
    -- input 3 el * 4 bits = 1.5 B -> 2; weights 3 el -> 2; 4
    assert.are.equal(4, m.reads)
    -- output 1 el * 4 bits = 0.5 B -> 1
    assert.are.equal(1, m.writes)
  end)

  it("answers to its db key", function ()
    -- L_out = 4 - 2 = 2; 2*1*1*2*1*3 = 12
    assert.are.equal(12, lmp.compute_flops("torch_Conv1d",
      conv { in_channels = 1, out_channels = 1, kernel_size = 3, length = 4 }))
  end)

  it("rejects channels that groups does not divide", function ()
    assert.error_matches(function ()
      lmp.compute_flops(NAME, conv { in_channels = 64, out_channels = 128, kernel_size = 3, groups = 3, length = 10 })
    end, "divisible by groups")
    assert.error_matches(function ()
      lmp.compute_params(NAME, conv { in_channels = 8, out_channels = 6, kernel_size = 3, groups = 4, length = 10 })
    end, "divisible by groups")
  end)

  it("rejects a kernel longer than the padded input", function ()
    -- (2 + 0 - 4 - 1) // 1 + 1 = -2: no output position
    assert.has_error(function ()
      lmp.compute_flops(NAME, conv { in_channels = 1, out_channels = 1, kernel_size = 5, length = 2 })
    end)
  end)

  it("rejects a missing parameter", function ()
    assert.error_matches(function ()
      lmp.compute_flops(NAME, conv { in_channels = 1, out_channels = 1, kernel_size = 3 })
    end, "length")
  end)
  it("says which of its reads are weights", function ()
    -- wav2vec2 layer: 786,432 weights * 2 B = 1,572,864
    assert.are.equal(1572864, lmp.compute_memory(NAME, w2v).weights)
    -- 3 weights * 4 bits = 1.5 B -> 2
    assert.are.equal(2, lmp.compute_memory(NAME,
      conv { in_channels = 1, out_channels = 1, kernel_size = 3, length = 3, w_bits = 4, a_bits = 4 }).weights)
  end)

  it("prices the backward pass: input and weight gradients over the im2col shapes", function ()
    -- dX (a transposed convolution) and dW each 2,515,009,536 (the forward product): 5,030,019,072
    assert.are.same({ flops = 5030019072, matmul_flops = 5030019072 }, lmp.compute_backward(NAME, w2v))
    -- grouped with bias: 2 * 258,560 = 517,120; db = 2*128*101 = 25,856 adds -> 542,976
    local p = conv { batch_size = 2, in_channels = 64, out_channels = 128, kernel_size = 5, padding = 4,
                     dilation = 2, groups = 64, bias = true, length = 101, w_bits = 4, a_bits = 8 }
    assert.are.same({ flops = 542976, matmul_flops = 517120 }, lmp.compute_backward(NAME, p))
  end)

  it("has no backward work for an empty batch", function ()
    assert.are.same({ flops = 0, matmul_flops = 0 }, lmp.compute_backward(NAME,
      conv { batch_size = 0, in_channels = 4, out_channels = 4, kernel_size = 3, bias = true, length = 8 }))
  end)

  it("reads no weights for an empty batch (a layer that does not run in this step)", function ()
    local none = conv { batch_size = 0, in_channels = 4, out_channels = 4, kernel_size = 3, bias = true, length = 8 }
    -- still 4*4*3 + 4 = 52 parameters; input 0*4*8 = 0 el, none of the weights read; output 0*4*6 = 0 el
    assert.are.equal(52, lmp.compute_params(NAME, none))
    local m = lmp.compute_memory(NAME, none)
    assert.are.equal(0, m.reads)
    assert.are.equal(0, m.weights)
    assert.are.equal(0, m.writes)
  end)
end)
