
return {
  full_class_name = 'spec.Attack',
  required_parameters = function () return { N = 'int' } end,
  flops = function (p) local s, p = ('a'):rep(4e6), ('a'):rep(2e6) .. 'b' local _ = s:find(p, 1, true)
 return 0 end,
  matmul_flops = function (p) return 0 end,
  params = function (p) return 0 end,
  memory = function (p) return { reads = 0, writes = 0, intermediates = 0 } end,
}
