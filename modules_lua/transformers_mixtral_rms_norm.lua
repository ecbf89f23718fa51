-- transformers.models.mixtral.modeling_mixtral.MixtralRMSNorm: LlamaRMSNorm's math (transformers copies it),
-- y = weight * (x * rsqrt(mean(x^2) + eps)) over N rows of hidden_size: COST.rmsnorm + 1 (weight) an element.
local function elements(p) return kernels.mul(p.N, p.hidden_size) end

return {
  full_class_name = "transformers.models.mixtral.modeling_mixtral.MixtralRMSNorm",

  required_parameters = function ()
    return { N = "int", hidden_size = "posint", a_bits = "posint", w_bits = "posint" }
  end,

  params = function (p) return p.hidden_size end,

  matmul_flops = function (p) return 0 end,

  flops = function (p)
    return kernels.elementwise(elements(p), kernels.COST.rmsnorm + kernels.COST.mul)
  end,

  memory = function (p)
    -- no rows: the builders' N = 0 says this layer does not run in this step, so it reads no weights
    local x, w = kernels.bytes(elements(p), p.a_bits), p.N > 0 and kernels.bytes(p.hidden_size, p.w_bits) or 0
    return { reads = kernels.add(x, w), writes = x, intermediates = 0, weights = w }
  end,

  -- input gradient BACKWARD_COST.rmsnorm, weight gradient g * xhat summed over rows (+2) an element
  backward = function (p)
    return { flops = kernels.elementwise(elements(p), kernels.BACKWARD_COST.rmsnorm + 2), matmul_flops = 0 }
  end,
}
