-- spec.Negative: a deliberately broken calculator for the sandbox and validation specs.
return {
  full_class_name = "spec.Negative",
  required_parameters = function () return { N = "int" } end,
  flops = function (p) return -1 end,
  matmul_flops = function (p) return 0 end,
  params = function (p) return 0 end,
  memory = function (p) return { reads = 0, writes = 0, intermediates = 0 } end,
}
