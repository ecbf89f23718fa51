local t = {} for i = 1, 2e5 do t[i] = i end while true do pcall(table.sort, t, function (a, b) return true end) end
return {
  full_class_name = 'spec.Attack',
  required_parameters = function () return { N = 'int' } end,
  flops = function (p) 
 return 0 end,
  matmul_flops = function (p) return 0 end,
  params = function (p) return 0 end,
  memory = function (p) return { reads = 0, writes = 0, intermediates = 0 } end,
}
