
return {
  full_class_name = 'spec.Attack',
  required_parameters = function () return { N = 'int' } end,
  flops = function (p) local t = {} for i = 1, 1e6 do t[i] = i end while true do table.insert(t, 1, 0) table.remove(t, 1) end
 return 0 end,
  matmul_flops = function (p) return 0 end,
  params = function (p) return 0 end,
  memory = function (p) return { reads = 0, writes = 0, intermediates = 0 } end,
}
