-- torch.nn.modules.activation.GELU: y = x * Phi(x) (erf form), or the tanh approximation
-- when approximate = "tanh"; elementwise over numel values at COST.gelu or COST.gelu_tanh.
local function per_element(p)
  return p.approximate == "tanh" and kernels.COST.gelu_tanh or kernels.COST.gelu
end

local function backward_per_element(p)
  return p.approximate == "tanh" and kernels.BACKWARD_COST.gelu_tanh or kernels.BACKWARD_COST.gelu
end

return {
  full_class_name = "torch.nn.modules.activation.GELU",

  required_parameters = function ()
    -- default as the constructor's: torch.nn.GELU(approximate='none')
    return { numel = "int", approximate = { type = "string", values = { "none", "tanh" }, default = "none" },
             a_bits = "posint" }
  end,

  params = function (p)
    return 0
  end,

  matmul_flops = function (p)
    return 0
  end,

  flops = function (p)
    return kernels.elementwise(p.numel, per_element(p))
  end,

  memory = function (p)
    return {
      reads = kernels.bytes(p.numel, p.a_bits),
      writes = kernels.bytes(p.numel, p.a_bits),
      intermediates = 0,
    }
  end,

  backward = function (p)
    return { flops = kernels.elementwise(p.numel, backward_per_element(p)), matmul_flops = 0 }
  end,

  sample_parameters = function ()
    return {
      { numel = 2048 * 3072, approximate = "none", a_bits = 16 },
      { numel = 1023, approximate = "tanh", a_bits = 4 },
    }
  end,
}
