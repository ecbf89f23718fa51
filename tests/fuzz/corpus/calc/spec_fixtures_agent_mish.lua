-- torch.nn.modules.activation.Mish: y = x * tanh(softplus(x)) over numel elements:
-- softplus (exp, +1, log) 3, tanh 1, multiply 1 = 5 FLOPs an element.
return {
  full_class_name = "torch.nn.modules.activation.Mish",
  required_parameters = function () return { numel = "int", a_bits = "posint" } end,
  flops = function (p) return kernels.elementwise(p.numel, 5) end,
  matmul_flops = function () return 0 end,
  params = function () return 0 end,
  memory = function (p)
    local b = kernels.bytes(p.numel, p.a_bits)
    return { reads = b, writes = b, intermediates = 0 }
  end,
  backward = function (p) return { flops = kernels.elementwise(p.numel, 10), matmul_flops = 0 } end,
}
