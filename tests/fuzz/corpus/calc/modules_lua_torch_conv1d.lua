-- torch.nn.modules.conv.Conv1d: y[b, o, l] = bias[o] + sum over (in/groups) x k of w * x, L_out positions.
-- matmul_flops = 2*B*out*L_out*(in/groups)*k (FlopCounterMode's convolution count); bias is B*out*L_out.
local function geometry(p)
  if p.in_channels % p.groups ~= 0 or p.out_channels % p.groups ~= 0 then
    error(string.format("in_channels (%d) and out_channels (%d) must be divisible by groups (%d)",
                        p.in_channels, p.out_channels, p.groups), 0)
  end
  local l_out = kernels.conv_out(p.length, p.kernel_size, p.stride, p.padding, p.dilation)
  return l_out, kernels.mul(p.in_channels // p.groups, p.kernel_size)  -- L_out, inputs per output
end

local function weights(p)
  return kernels.add(kernels.mul(p.out_channels, p.in_channels // p.groups, p.kernel_size),
                     p.bias and p.out_channels or 0)
end

return {
  full_class_name = "torch.nn.modules.conv.Conv1d",

  required_parameters = function ()
    -- defaults as the constructor's: torch.nn.Conv1d(in_channels, out_channels, kernel_size,
    -- stride=1, padding=0, dilation=1, groups=1, bias=True)
    return { batch_size = "int", in_channels = "posint", out_channels = "posint", kernel_size = "posint",
             stride = { type = "posint", default = 1 }, padding = { type = "int", default = 0 },
             dilation = { type = "posint", default = 1 }, groups = { type = "posint", default = 1 },
             bias = { type = "bool", default = true }, length = "posint", w_bits = "posint", a_bits = "posint" }
  end,

  params = function (p)
    geometry(p)
    return weights(p)
  end,

  matmul_flops = function (p)
    local l_out, fan_in = geometry(p)
    return kernels.matmul(kernels.mul(p.batch_size, l_out), fan_in, p.out_channels)
  end,

  flops = function (p)
    local l_out, fan_in = geometry(p)
    local outputs = kernels.mul(p.batch_size, p.out_channels, l_out)
    local bias_add = p.bias and kernels.elementwise(outputs, kernels.COST.add) or 0
    return kernels.add(kernels.matmul(kernels.mul(p.batch_size, l_out), fan_in, p.out_channels), bias_add)
  end,

  memory = function (p)
    local l_out = geometry(p)
    -- no batch: the builders' batch_size = 0 says this layer does not run in this step, so it reads no weights
    local w = p.batch_size > 0 and kernels.bytes(weights(p), p.w_bits) or 0
    return {
      reads = kernels.add(kernels.bytes(kernels.mul(p.batch_size, p.in_channels, p.length), p.a_bits), w),
      writes = kernels.bytes(kernels.mul(p.batch_size, p.out_channels, l_out), p.a_bits),
      intermediates = 0,
      weights = w,
    }
  end,

  -- over the im2col shapes (M = B*l_out rows, K = fan_in, out columns), as FlopCounterMode's
  -- convolution_backward: dX, a transposed convolution (2*M*K*out), and dW = dY^T cols (2*M*K*out);
  -- db = the sums of dY over batch and positions (B*out*l_out adds)
  backward = function (p)
    local l_out, fan_in = geometry(p)
    local rows = kernels.mul(p.batch_size, l_out)
    local products = kernels.mul(2, kernels.matmul(rows, fan_in, p.out_channels))
    local bias_grad = p.bias and kernels.elementwise(kernels.mul(rows, p.out_channels), kernels.BACKWARD_COST.add) or 0
    return { flops = kernels.add(products, bias_grad), matmul_flops = products }
  end,

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
