-- torch.nn.modules.activation.PReLU: x > 0 ? x : a * x with a learned slope a per channel (num_parameters of
-- them; 1, the constructor's default, shared by all channels). COST.prelu an element; the slopes are its
-- weights (read at w_bits when there is an input). Backward: the input gradient and the slopes' (g * x over the negative inputs, summed).
local function weights(p)
  return p.numel > 0 and kernels.bytes(p.num_parameters, p.w_bits) or 0
end

return {
  full_class_name = "torch.nn.modules.activation.PReLU",
  required_parameters = function ()
    -- PReLU(num_parameters=1, init=0.25, device=None, dtype=None)
    return { numel = "int", num_parameters = { type = "posint", default = 1 }, a_bits = "posint", w_bits = "posint" }
  end,
  params = function (p) return p.num_parameters end,
  matmul_flops = function () return 0 end,
  flops = function (p) return kernels.elementwise(p.numel, kernels.COST.prelu) end,
  memory = function (p)
    local one, w = kernels.bytes(p.numel, p.a_bits), weights(p)
    return { reads = kernels.add(one, w), writes = one, intermediates = 0, weights = w }
  end,
  backward = function (p) return { flops = kernels.elementwise(p.numel, kernels.BACKWARD_COST.prelu), matmul_flops = 0 } end,
  sample_parameters = function ()
    return { { numel = 2048 * 64, num_parameters = 64, a_bits = 16, w_bits = 16 },
             { numel = 7, num_parameters = 1, a_bits = 4, w_bits = 8 },
             { numel = 0, num_parameters = 3, a_bits = 16, w_bits = 16 } }
  end,
}
