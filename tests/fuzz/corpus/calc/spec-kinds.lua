return {
  full_class_name = 'spec.Kinds',
  required_parameters = function () return { n = { type = 'posint', max = 1 << 40 }, b = 'bool',
    mode = { type = 'string', values = { 'a', 'b' } }, x = 'number', d = { type = 'int', default = 4 } } end,
  sample_parameters = function () return { { n = 1, b = true, mode = 'a', x = 0.5 }, { n = 3, b = false, mode = 'b', x = 2, d = 0 } } end,
  flops = function (p) return kernels.conv_out(p.n, 1, 1, p.d, 1) end,
  matmul_flops = function (p) return 0 end,
  params = function (p) return kernels.mul(p.n, p.d) end,
  memory = function (p) local w = kernels.bytes(p.n * p.d, 16) return { reads = w, writes = 0, intermediates = 0, weights = w } end,
  state = function (p) return p.b and 1 or 0 end,
  backward = function (p) return { flops = kernels.add(p.n, p.n), matmul_flops = 0 } end,
}
