
return {
  full_class_name = 'spec.Attack',
  required_parameters = function () return { N = 'int' } end,
  sample_parameters = function () local t = {} for i = 1, 400 do t[i] = { N = i } end return t end,
  flops = function (p) 
 return 0 end,
  matmul_flops = function (p) return 0 end,
  params = function (p) return 0 end,
  memory = function (p) return { reads = 0, writes = 0, intermediates = 0 } end,
}
