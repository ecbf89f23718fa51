-- torch.div: out = a / b over numel values, b broadcast from divisor_numel values (divisor_numel = numel
-- when they match): one division an element (COST.mul: one operation).
local function check(p)
  if p.divisor_numel > p.numel then
    error(string.format("divisor_numel (%d) is larger than numel (%d)", p.divisor_numel, p.numel), 0)
  end
end

return {
  full_class_name = "torch.div",

  required_parameters = function ()
    return { numel = "int", divisor_numel = "int", a_bits = "posint" }
  end,

  params = function (p) check(p); return 0 end,

  matmul_flops = function (p) return 0 end,

  flops = function (p)
    check(p)
    return kernels.elementwise(p.numel, kernels.COST.mul)
  end,

  memory = function (p)
    check(p)
    local out = kernels.bytes(p.numel, p.a_bits)
    return { reads = kernels.add(out, kernels.bytes(p.divisor_numel, p.a_bits)), writes = out, intermediates = 0 }
  end,

  -- da = g / b (1 an element); db = -sum(g * out / b) over the broadcast: g*out, / b, accumulate (3)
  backward = function (p)
    check(p)
    return { flops = kernels.elementwise(p.numel, 4), matmul_flops = 0 }
  end,

  sample_parameters = function ()
    return {
      { numel = 4096, divisor_numel = 2048, a_bits = 16 },  -- Mixtral top-2 weights / their sums
      { numel = 1000, divisor_numel = 1000, a_bits = 32 },
      { numel = 7, divisor_numel = 1, a_bits = 4 },
    }
  end,
}
