-- transformers.activations.XIELUActivation (xielu, Apertus): where(x > 0, alpha_p*x*x + beta*x,
-- (expm1(min(x, eps)) - x)*alpha_n + beta*x), both branches evaluated on every element: COST.xielu.
-- alpha_p and alpha_n are its two weights (one value each; beta and eps are buffers), read at w_bits when there is
-- an input; their softplus is per call, not per element, so not counted. Backward: the input gradient and the two
-- weights' (BACKWARD_COST.xielu). The constructor's initial values change no count, so they are not parameters.
local WEIGHTS = 2

local function weights(p)
  return p.numel > 0 and kernels.bytes(WEIGHTS, p.w_bits) or 0
end

return {
  full_class_name = "transformers.activations.XIELUActivation",
  required_parameters = function () return { numel = "int", a_bits = "posint", w_bits = "posint" } end,
  params = function () return WEIGHTS end,
  matmul_flops = function () return 0 end,
  flops = function (p) return kernels.elementwise(p.numel, kernels.COST.xielu) end,
  memory = function (p)
    local one, w = kernels.bytes(p.numel, p.a_bits), weights(p)
    return { reads = kernels.add(one, w), writes = one, intermediates = 0, weights = w }
  end,
  backward = function (p) return { flops = kernels.elementwise(p.numel, kernels.BACKWARD_COST.xielu), matmul_flops = 0 } end,
  sample_parameters = function ()
    return { { numel = 2048 * 8192, a_bits = 16, w_bits = 16 }, { numel = 5, a_bits = 4, w_bits = 8 },
             { numel = 0, a_bits = 16, w_bits = 16 } }
  end,
}
