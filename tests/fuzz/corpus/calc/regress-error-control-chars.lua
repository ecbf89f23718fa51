return { full_class_name = 'spec.Esc', required_parameters = function () return { N = 'int', s = { type = 'string', values = { 'a\n\27[2J' } } } end,
  sample_parameters = function () return { { N = 1, s = 'a\n\27[2J' } } end,
  flops = function () error('line one\nline two \27[31mred', 0) end, matmul_flops = function () return 0 end,
  params = function () return 0 end, memory = function () return { reads = 0, writes = 0, intermediates = 0 } end }
