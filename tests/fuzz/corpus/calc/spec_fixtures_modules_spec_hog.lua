-- spec.Hog: a deliberately broken calculator for the sandbox and validation specs.
return {
  full_class_name = "spec.Hog",
  required_parameters = function () return { N = "int" } end,
  flops = function (p) local t = {} for i = 1, 1e9 do t[i] = ('x'):rep(1048576 + i) end return 0 end,
  matmul_flops = function (p) return 0 end,
  params = function (p) return 0 end,
  memory = function (p) return { reads = 0, writes = 0, intermediates = 0 } end,
}
