-- torch.cat: joins tensors into one of numel values (Phi's rotated and pass-through halves of q and k):
-- a copy, no arithmetic; reads every input value once and writes the result.
return {
  full_class_name = "torch.cat",

  required_parameters = function ()
    return { numel = "int", a_bits = "posint" }
  end,

  params = function (p) return 0 end,

  matmul_flops = function (p) return 0 end,

  flops = function (p) return 0 end,

  memory = function (p)
    local x = kernels.bytes(p.numel, p.a_bits)
    return { reads = x, writes = x, intermediates = 0 }
  end,

  -- the gradient of each input is a slice of the output gradient: a view, no arithmetic
  backward = function (p)
    return { flops = 0, matmul_flops = 0 }
  end,
}
