-- spec.Loop: a deliberately broken calculator for the sandbox and validation specs.
return {
  full_class_name = "spec.Loop",
  required_parameters = function () return { N = "int" } end,
  flops = function (p) while true do end end,
  matmul_flops = function (p) return 0 end,
  params = function (p) return 0 end,
  memory = function (p) return { reads = 0, writes = 0, intermediates = 0 } end,
}
