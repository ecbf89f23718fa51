-- torch.nn.modules.pooling.AdaptiveAvgPool2d: the height x width map of each of batch*channels planes
-- averaged into output_size_h x output_size_w bins. When the output divides the input (ResNet's 7x7 -> 1x1,
-- any global pool) the bins tile it: every input is added once (height*width adds a plane) and each bin
-- divided once (output_size_h*output_size_w). Overlapping bins (7 -> 3) are an error, not a guess.
-- No parameters, no matrix product. Backward: each output's gradient spread over its bin, 1 an input.

local function check(p)
  if p.height % p.output_size_h ~= 0 or p.width % p.output_size_w ~= 0 then
    error(string.format("a %dx%d input into %dx%d bins overlaps (not modelled: the output must divide the input)",
                        p.height, p.width, p.output_size_h, p.output_size_w), 0)
  end
  return kernels.mul(p.batch_size, p.channels)
end

return {
  full_class_name = "torch.nn.modules.pooling.AdaptiveAvgPool2d",

  required_parameters = function ()
    return { batch_size = "int", channels = "posint", height = "posint", width = "posint",
             output_size_h = "posint", output_size_w = "posint", a_bits = "posint" }
  end,

  params = function (p) check(p) return 0 end,

  matmul_flops = function (p) check(p) return 0 end,

  flops = function (p)
    local planes = check(p)
    return kernels.mul(planes, p.height * p.width + p.output_size_h * p.output_size_w)
  end,

  memory = function (p)
    local planes = check(p)
    return { reads = kernels.bytes(kernels.mul(planes, p.height, p.width), p.a_bits),
             writes = kernels.bytes(kernels.mul(planes, p.output_size_h, p.output_size_w), p.a_bits),
             intermediates = 0 }
  end,

  backward = function (p)
    return { flops = kernels.mul(check(p), p.height, p.width), matmul_flops = 0 }
  end,

  sample_parameters = function ()
    return {
      -- ResNet-50's avgpool: 2048 x 7 x 7 -> 1 x 1
      { batch_size = 2, channels = 2048, height = 7, width = 7, output_size_h = 1, output_size_w = 1, a_bits = 16 },
      { batch_size = 1, channels = 3, height = 12, width = 8, output_size_h = 4, output_size_w = 2, a_bits = 8 },
    }
  end,
}
