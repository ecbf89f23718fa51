-- torch.nn.modules.pooling.MaxPool2d: each of the batch*channels*H_out*W_out outputs is the max of a
-- kernel_h x kernel_w window, kernel_h*kernel_w - 1 comparisons (a comparison with its select is 1);
-- H_out = floor((height + 2*padding_h - dilation_h*(kernel_h - 1) - 1) / stride_h) + 1, as a convolution's.
-- No parameters, no matrix product. Backward: each output's gradient goes to its argmax, 1 add an output.
-- ceil_mode=True (windows past the edge) is not modelled: an error, not a guess.

local function outputs(p)
  if p.ceil_mode then error("ceil_mode=true is not modelled (its last window may start in the padding)", 0) end
  local h = kernels.conv_out(p.height, p.kernel_h, p.stride_h, p.padding_h, p.dilation_h)
  local w = kernels.conv_out(p.width, p.kernel_w, p.stride_w, p.padding_w, p.dilation_w)
  return kernels.mul(p.batch_size, p.channels, h, w)
end

return {
  full_class_name = "torch.nn.modules.pooling.MaxPool2d",

  required_parameters = function ()
    -- torch.nn.MaxPool2d(kernel_size, stride=kernel_size, padding=0, dilation=1, ceil_mode=False)
    local one, zero = { type = "posint", default = 1 }, { type = "int", default = 0 }
    return { batch_size = "int", channels = "posint", height = "posint", width = "posint",
             kernel_h = "posint", kernel_w = "posint", stride_h = "posint", stride_w = "posint",
             padding_h = zero, padding_w = zero, dilation_h = one, dilation_w = one,
             ceil_mode = { type = "bool", default = false }, a_bits = "posint" }
  end,

  params = function (p) return 0 end,

  matmul_flops = function (p) return 0 end,

  flops = function (p)
    return kernels.mul(outputs(p), p.kernel_h * p.kernel_w - 1)
  end,

  memory = function (p)
    return { reads = kernels.bytes(kernels.mul(p.batch_size, p.channels, p.height, p.width), p.a_bits),
             writes = kernels.bytes(outputs(p), p.a_bits), intermediates = 0 }
  end,

  backward = function (p)
    return { flops = outputs(p), matmul_flops = 0 }
  end,

  sample_parameters = function ()
    return {
      -- ResNet-50's maxpool: 3x3, stride 2, padding 1 on 64 x 112 x 112
      { batch_size = 1, channels = 64, height = 112, width = 112, kernel_h = 3, kernel_w = 3, stride_h = 2,
        stride_w = 2, padding_h = 1, padding_w = 1, dilation_h = 1, dilation_w = 1, ceil_mode = false, a_bits = 16 },
      { batch_size = 3, channels = 8, height = 15, width = 9, kernel_h = 2, kernel_w = 3, stride_h = 2,
        stride_w = 1, padding_h = 0, padding_w = 1, dilation_h = 2, dilation_w = 1, ceil_mode = false, a_bits = 8 },
    }
  end,
}
