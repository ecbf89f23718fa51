return { full_class_name = "spec.T",
  required_parameters = function () return { n = { type = 12 } } end,
  flops = function () return 0 end, matmul_flops = function () return 0 end, params = function () return 0 end,
  memory = function () return { reads = 0, writes = 0, intermediates = 0 } end }
