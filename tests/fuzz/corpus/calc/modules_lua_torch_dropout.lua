-- torch.nn.modules.dropout.Dropout: the identity at inference (model.eval()), so nothing is
-- computed, read or written; numel only records the size of the tensor passed through.
return {
  full_class_name = "torch.nn.modules.dropout.Dropout",

  required_parameters = function ()
    return { numel = "int" }
  end,

  params = function (p)
    return 0
  end,

  matmul_flops = function (p)
    return 0
  end,

  flops = function (p)
    return kernels.elementwise(p.numel, kernels.COST.dropout)
  end,

  memory = function (p)
    return { reads = 0, writes = 0, intermediates = 0 }
  end,

  -- in training the gradient passes the kept entries (g * mask / (1 - p)): BACKWARD_COST.dropout, a select
  backward = function (p)
    return { flops = kernels.elementwise(p.numel, kernels.BACKWARD_COST.dropout), matmul_flops = 0 }
  end,
}
