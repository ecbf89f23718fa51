-- torch.nn.modules.conv.Conv1d: y[b, o, l] = bias[o] + sum over (in/groups) x k of w * x, L_out positions.
-- matmul_flops = 2*B*out*L_out*(in/groups)*k (FlopCounterMode's convolution count); bias is B*out*L_out.

-- geometry(p) -> output positions, inputs per output (conv_calculator has checked the groups)
local function geometry(p)
  local l_out = kernels.conv_out(p.length, p.kernel_size, p.stride, p.padding, p.dilation)
  return l_out, kernels.mul(p.in_channels // p.groups, p.kernel_size)
end

return kernels.conv_calculator {
  full_class_name = "torch.nn.modules.conv.Conv1d",

  required_parameters = function ()
    -- defaults as the constructor's: torch.nn.Conv1d(in_channels, out_channels, kernel_size,
    -- stride=1, padding=0, dilation=1, groups=1, bias=True)
    return { batch_size = "int", in_channels = "posint", out_channels = "posint", kernel_size = "posint",
             stride = { type = "posint", default = 1 }, padding = { type = "int", default = 0 },
             dilation = { type = "posint", default = 1 }, groups = { type = "posint", default = 1 },
             bias = { type = "bool", default = true }, length = "posint", w_bits = "posint", a_bits = "posint" }
  end,

  geometry = geometry,

  input = function (p) return kernels.mul(p.batch_size, p.in_channels, p.length) end,

  sample_parameters = function ()
    return {
      -- wav2vec2-style feature extractor layer: 512 -> 512, k=3, stride 2, 1 s of 16 kHz audio after the first layer
      { batch_size = 1, in_channels = 512, out_channels = 512, kernel_size = 3, stride = 2, padding = 0,
        dilation = 1, groups = 1, bias = false, length = 3199, w_bits = 16, a_bits = 16 },
      -- depthwise, padded, dilated, with bias, 4-bit weights
      { batch_size = 2, in_channels = 64, out_channels = 128, kernel_size = 5, stride = 1, padding = 4,
        dilation = 2, groups = 64, bias = true, length = 101, w_bits = 4, a_bits = 8 },
    }
  end,
}
