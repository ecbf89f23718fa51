-- torch.nn.modules.conv.Conv2d: y[b, o, h, w] = bias[o] + sum over (in/groups) x kh x kw of w * x.
-- matmul_flops = 2*B*out*H_out*W_out*(in/groups)*kh*kw (FlopCounterMode's count); bias is B*out*H_out*W_out.

-- geometry(p) -> output positions, inputs per output (conv_calculator has checked the groups)
local function geometry(p)
  local h_out = kernels.conv_out(p.height, p.kernel_h, p.stride_h, p.padding_h, p.dilation_h)
  local w_out = kernels.conv_out(p.width, p.kernel_w, p.stride_w, p.padding_w, p.dilation_w)
  return kernels.mul(h_out, w_out), kernels.mul(p.in_channels // p.groups, p.kernel_h, p.kernel_w)
end

return kernels.conv_calculator {
  full_class_name = "torch.nn.modules.conv.Conv2d",

  required_parameters = function ()
    -- defaults as the constructor's: torch.nn.Conv2d(in_channels, out_channels, kernel_size,
    -- stride=1, padding=0, dilation=1, groups=1, bias=True), each pair given per axis here
    local one, zero = { type = "posint", default = 1 }, { type = "int", default = 0 }
    return { batch_size = "int", in_channels = "posint", out_channels = "posint",
             kernel_h = "posint", kernel_w = "posint", stride_h = one, stride_w = one,
             padding_h = zero, padding_w = zero, dilation_h = one, dilation_w = one,
             groups = one, bias = { type = "bool", default = true }, height = "posint", width = "posint",
             w_bits = "posint", a_bits = "posint" }
  end,

  geometry = geometry,

  input = function (p) return kernels.mul(p.batch_size, p.in_channels, p.height, p.width) end,

  sample_parameters = function ()
    return {
      -- ResNet-50 stem: 3 -> 64, 7x7, stride 2, padding 3 on a 224x224 image
      { batch_size = 1, in_channels = 3, out_channels = 64, kernel_h = 7, kernel_w = 7,
        stride_h = 2, stride_w = 2, padding_h = 3, padding_w = 3, dilation_h = 1, dilation_w = 1,
        groups = 1, bias = false, height = 224, width = 224, w_bits = 16, a_bits = 16 },
      -- ViT-B/16 patch embedding: 3 -> 768, 16x16, stride 16, with bias
      { batch_size = 8, in_channels = 3, out_channels = 768, kernel_h = 16, kernel_w = 16,
        stride_h = 16, stride_w = 16, padding_h = 0, padding_w = 0, dilation_h = 1, dilation_w = 1,
        groups = 1, bias = true, height = 224, width = 224, w_bits = 16, a_bits = 16 },
      -- grouped, asymmetric, dilated, 4-bit weights
      { batch_size = 3, in_channels = 32, out_channels = 48, kernel_h = 3, kernel_w = 1,
        stride_h = 1, stride_w = 2, padding_h = 2, padding_w = 0, dilation_h = 2, dilation_w = 1,
        groups = 4, bias = true, height = 15, width = 17, w_bits = 4, a_bits = 8 },
    }
  end,
}
