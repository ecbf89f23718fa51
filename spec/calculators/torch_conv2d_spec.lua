-- torch.nn.modules.conv.Conv2d: 2*B*out*H_out*W_out*(in/groups)*kh*kw product FLOPs, bias B*out*H_out*W_out.
local lmp = require "lmp"

local NAME = "torch.nn.modules.conv.Conv2d"

local function conv(t)
  local p = { batch_size = 1, stride_h = 1, stride_w = 1, padding_h = 0, padding_w = 0,
              dilation_h = 1, dilation_w = 1, groups = 1, bias = false }
  for k, v in pairs(t) do p[k] = v end
  return p
end

describe("torch.nn.modules.conv.Conv2d", function ()
  -- ResNet-50 stem: 3 -> 64, 7x7, stride 2, padding 3 on 224x224
  local stem = conv { in_channels = 3, out_channels = 64, kernel_h = 7, kernel_w = 7, stride_h = 2, stride_w = 2,
                      padding_h = 3, padding_w = 3, height = 224, width = 224 }

  it("counts the ResNet-50 stem", function ()
    -- H_out = W_out = (224 + 6 - 6 - 1) // 2 + 1 = 111 + 1 = 112
    -- 2*1*64*112*112*3*7*7 = 128 * 12,544 * 147 = 1,605,632 * 147 = 236,027,904
    assert.are.equal(236027904, lmp.compute_matmul_flops(NAME, stem))
    assert.are.equal(236027904, lmp.compute_flops(NAME, stem))
    -- 64*3*7*7 = 9,408
    assert.are.equal(9408, lmp.compute_params(NAME, stem))
    local m = lmp.compute_memory(NAME, stem)
    -- input 3*224*224*2 = 301,056; weights 9,408*2 = 18,816; sum 319,872
    assert.are.equal(319872, m.reads)
    -- output 64*112*112*2 = 1,605,632
    assert.are.equal(1605632, m.writes)
    assert.are.equal(0, m.intermediates)
  end)

  it("counts a ViT-B/16 patch embedding with its bias", function ()
    local p = conv { batch_size = 8, in_channels = 3, out_channels = 768, kernel_h = 16, kernel_w = 16,
                     stride_h = 16, stride_w = 16, bias = true, height = 224, width = 224 }
    -- H_out = W_out = (224 - 15 - 1) // 16 + 1 = 13 + 1 = 14
    -- 2*8*768*14*14*3*16*16 = 12,288 * 196 * 768 = 2,408,448 * 768 = 1,849,688,064
    assert.are.equal(1849688064, lmp.compute_matmul_flops(NAME, p))
    -- + bias 8*768*196 = 1,204,224 -> 1,850,892,288
    assert.are.equal(1850892288, lmp.compute_flops(NAME, p))
    -- 768*3*16*16 + 768 = 589,824 + 768 = 590,592
    assert.are.equal(590592, lmp.compute_params(NAME, p))
    local m = lmp.compute_memory(NAME, p)
    -- input 8*3*224*224*2 = 2,408,448; weights 590,592*2 = 1,181,184; sum 3,589,632
    assert.are.equal(3589632, m.reads)
    -- output 8*768*14*14*2 = 2,408,448
    assert.are.equal(2408448, m.writes)
  end)

  it("handles groups and asymmetric stride, padding and dilation", function ()
    local p = conv { batch_size = 3, in_channels = 32, out_channels = 48, kernel_h = 3, kernel_w = 1,
                     stride_w = 2, padding_h = 2, dilation_h = 2, groups = 4, bias = true,
                     height = 15, width = 17, w_bits = 4, a_bits = 8 }
    -- H_out = (15 + 4 - 2*2 - 1) // 1 + 1 = 15; W_out = (17 - 0 - 1) // 2 + 1 = 9; in/groups = 8
    -- 2*3*48*15*9*8*3*1 = 288 * 135 * 24 = 933,120
    assert.are.equal(933120, lmp.compute_matmul_flops(NAME, p))
    -- + bias 3*48*135 = 19,440 -> 952,560
    assert.are.equal(952560, lmp.compute_flops(NAME, p))
    -- 48*8*3*1 + 48 = 1,152 + 48 = 1,200
    assert.are.equal(1200, lmp.compute_params(NAME, p))
    local m = lmp.compute_memory(NAME, p)
    -- input 3*32*15*17 = 24,480 el * 1 B; weights 1,200 el * 4 bits = 600 B; 25,080
    assert.are.equal(25080, m.reads)
    -- output 3*48*15*9 = 19,440 el * 1 B
    assert.are.equal(19440, m.writes)
  end)

  it("rounds odd 4-bit counts up to whole bytes", function ()
    local p = conv { in_channels = 1, out_channels = 1, kernel_h = 3, kernel_w = 1, height = 3, width = 1,
                     w_bits = 4, a_bits = 4 }
    -- 1x1 output; 2*1*1*1*1*1*3*1 = 6
    assert.are.equal(6, lmp.compute_matmul_flops(NAME, p))
    local m = lmp.compute_memory(NAME, p)
    -- input 3 el -> 1.5 B -> 2; weights 3 el -> 2; 4; output 1 el -> 0.5 B -> 1
    assert.are.equal(4, m.reads)
    assert.are.equal(1, m.writes)
  end)

  it("rejects channels that groups does not divide", function ()
    assert.error_matches(function ()
      lmp.compute_flops(NAME, conv { in_channels = 32, out_channels = 48, kernel_h = 3, kernel_w = 3, groups = 5,
                                     height = 8, width = 8 })
    end, "divisible by groups")
    assert.error_matches(function ()
      lmp.compute_memory(NAME, conv { in_channels = 32, out_channels = 50, kernel_h = 3, kernel_w = 3, groups = 4,
                                      height = 8, width = 8 })
    end, "divisible by groups")
  end)

  it("rejects a kernel taller than the padded input", function ()
    assert.has_error(function ()
      lmp.compute_flops(NAME, conv { in_channels = 1, out_channels = 1, kernel_h = 9, kernel_w = 1, height = 4, width = 4 })
    end)
  end)

  it("rejects a missing parameter", function ()
    assert.error_matches(function ()
      lmp.compute_flops(NAME, conv { in_channels = 1, out_channels = 1, kernel_h = 3, kernel_w = 3, height = 8 })
    end, "width")
  end)
  it("says which of its reads are weights", function ()
    -- stem: 9,408 weights * 2 B = 18,816
    assert.are.equal(18816, lmp.compute_memory(NAME, stem).weights)
    -- grouped: 1,200 weights * 4 bits = 600 B
    local p = conv { batch_size = 3, in_channels = 32, out_channels = 48, kernel_h = 3, kernel_w = 1,
                     stride_w = 2, padding_h = 2, dilation_h = 2, groups = 4, bias = true,
                     height = 15, width = 17, w_bits = 4, a_bits = 8 }
    assert.are.equal(600, lmp.compute_memory(NAME, p).weights)
  end)

  it("prices the backward pass: input and weight gradients over the im2col shapes", function ()
    -- stem: dX and dW each 236,027,904: 472,055,808
    assert.are.same({ flops = 472055808, matmul_flops = 472055808 }, lmp.compute_backward(NAME, stem))
    -- ViT patch embedding: 2 * 1,849,688,064 = 3,699,376,128; db = 8*768*14*14 = 1,204,224 -> 3,700,580,352
    local vit = conv { batch_size = 8, in_channels = 3, out_channels = 768, kernel_h = 16, kernel_w = 16,
                       stride_h = 16, stride_w = 16, bias = true, height = 224, width = 224 }
    assert.are.same({ flops = 3700580352, matmul_flops = 3699376128 }, lmp.compute_backward(NAME, vit))
  end)

  it("prices a grouped, asymmetric backward and a 1x1 edge case", function ()
    local p = conv { batch_size = 3, in_channels = 32, out_channels = 48, kernel_h = 3, kernel_w = 1,
                     stride_w = 2, padding_h = 2, dilation_h = 2, groups = 4, bias = true,
                     height = 15, width = 17, w_bits = 4, a_bits = 8 }
    -- 2 * 933,120 = 1,866,240; db = 3*48*15*9 = 19,440 -> 1,885,680
    assert.are.same({ flops = 1885680, matmul_flops = 1866240 }, lmp.compute_backward(NAME, p))
    -- one 1x1 output of a 3x1 kernel, one channel: dX 6 + dW 6 = 12
    assert.are.same({ flops = 12, matmul_flops = 12 }, lmp.compute_backward(NAME,
      conv { in_channels = 1, out_channels = 1, kernel_h = 3, kernel_w = 1, height = 3, width = 1 }))
  end)

  it("reads no weights for an empty batch (a layer that does not run in this step)", function ()
    local none = conv { batch_size = 0, in_channels = 3, out_channels = 64, kernel_h = 7, kernel_w = 7, height = 8, width = 8 }
    -- still 64*3*7*7 = 9,408 parameters; input 0*3*8*8 = 0 el, none of the weights read; output 0*64*2*2 = 0 el
    assert.are.equal(9408, lmp.compute_params(NAME, none))
    local m = lmp.compute_memory(NAME, none)
    assert.are.equal(0, m.reads)
    assert.are.equal(0, m.weights)
    assert.are.equal(0, m.writes)
  end)
end)
