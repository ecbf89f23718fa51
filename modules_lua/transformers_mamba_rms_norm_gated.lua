-- transformers.models.mamba2.modeling_mamba2.MambaRMSNormGated: norm(y, gate) = weight * rmsnorm(y * silu(gate))
-- over N rows of hidden_size (the mixer's intermediate_size): COST.silu + COST.mul (the gate) + COST.rmsnorm
-- + 1 (the weight) per element; it reads y and the gate. Backward: BACKWARD_COST.rmsnorm + mul's (2) + silu's
-- (8) for the two inputs, + 2 for dW.
local calc = kernels.norm_calculator {
  full_class_name = "transformers.models.mamba2.modeling_mamba2.MambaRMSNormGated",
  cost = kernels.COST.silu + kernels.COST.mul + kernels.COST.rmsnorm,
  backward_cost = kernels.BACKWARD_COST.rmsnorm + kernels.BACKWARD_COST.mul + kernels.BACKWARD_COST.silu,

  required_parameters = function ()
    return { N = "int", hidden_size = "posint", a_bits = "posint", w_bits = "posint" }
  end,

  rows = "N", width = "hidden_size", weight = true,
}

local memory = calc.memory
calc.memory = function (p)
  local m = memory(p)
  m.reads = kernels.add(m.reads, kernels.bytes(kernels.mul(p.N, p.hidden_size), p.a_bits)) -- the gate
  return m
end

return calc
