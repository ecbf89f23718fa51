
return {
  full_class_name = 'spec.Attack',
  required_parameters = function () return { N = 'int' } end,
  flops = function (p) while true do pcall(function () local t = {} for i = 1, 1e9 do t[i] = ('x'):rep(1e6 + i) end end) end
 return 0 end,
  matmul_flops = function (p) return 0 end,
  params = function (p) return 0 end,
  memory = function (p) return { reads = 0, writes = 0, intermediates = 0 } end,
}
