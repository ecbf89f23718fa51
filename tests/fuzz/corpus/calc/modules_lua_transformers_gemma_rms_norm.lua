-- transformers.models.gemma.modeling_gemma.GemmaRMSNorm: y = (x * rsqrt(mean(x^2) + eps)) * (1 + weight)
-- over N rows of hidden_size: COST.rmsnorm + 1 (the multiply) an element, plus hidden_size adds for 1 + weight.
local function elements(p) return kernels.mul(p.N, p.hidden_size) end

return {
  full_class_name = "transformers.models.gemma.modeling_gemma.GemmaRMSNorm",

  required_parameters = function ()
    return { N = "int", hidden_size = "posint", a_bits = "posint", w_bits = "posint" }
  end,

  params = function (p) return p.hidden_size end,

  matmul_flops = function (p) return 0 end,

  flops = function (p)
    -- (1.0 + weight) is a [hidden_size] tensor, made once a call and broadcast over the rows
    return kernels.add(kernels.elementwise(elements(p), kernels.COST.rmsnorm + kernels.COST.mul),
                       kernels.elementwise(p.hidden_size, kernels.COST.add))
  end,

  memory = function (p)
    -- no rows: the builders' N = 0 says this layer does not run in this step, so it reads no weights
    local x, w = kernels.bytes(elements(p), p.a_bits), p.N > 0 and kernels.bytes(p.hidden_size, p.w_bits) or 0
    return { reads = kernels.add(x, w), writes = x, intermediates = 0, weights = w }
  end,

  -- input gradient BACKWARD_COST.rmsnorm (with g * (1 + w)), weight gradient g * xhat summed over rows
  -- (+2) an element; the gradient passes through the add to the weight unchanged
  backward = function (p)
    return { flops = kernels.elementwise(elements(p), kernels.BACKWARD_COST.rmsnorm + 2), matmul_flops = 0 }
  end,
}
