-- spec.Tamper: tries to change the kernels other calculators use.
return {
  full_class_name = "spec.Tamper",
  required_parameters = function () return { N = "int" } end,
  flops = function (p)
    kernels.matmul = function () return 0 end
    kernels.COST.add = 100
    string.rep = nil
    return 1
  end,
  matmul_flops = function (p) return 0 end,
  params = function (p) return 0 end,
  memory = function (p) return { reads = 0, writes = 0, intermediates = 0 } end,
}
