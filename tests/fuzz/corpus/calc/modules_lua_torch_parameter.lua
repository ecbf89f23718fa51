-- torch.nn.parameter.Parameter: a bare weight a module owns and another layer uses (BertLMPredictionHead.bias,
-- added by the tied decoder): numel parameters; its reads and arithmetic are priced where it is used.
return {
  full_class_name = "torch.nn.parameter.Parameter",

  required_parameters = function ()
    return { numel = "posint" }
  end,

  params = function (p)
    return p.numel
  end,

  matmul_flops = function (p)
    return 0
  end,

  flops = function (p)
    return 0
  end,

  memory = function (p)
    return { reads = 0, writes = 0, intermediates = 0, weights = 0 }
  end,

  -- its gradient is accumulated by the layer that uses it
  backward = function (p)
    return { flops = 0, matmul_flops = 0 }
  end,
}
