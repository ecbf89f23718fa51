-- torch.topk: the k largest of each of `rows` rows of `width` values (Mixtral's expert selection),
-- as k passes of a max over the row: k comparisons an element, one FLOP each (as softmax's max).
return {
  full_class_name = "torch.topk",

  required_parameters = function ()
    return { rows = "int", width = "posint", k = "posint", a_bits = "posint" }
  end,

  params = function (p) return 0 end,

  matmul_flops = function (p) return 0 end,

  flops = function (p)
    if p.k > p.width then error(string.format("k (%d) is larger than width (%d)", p.k, p.width), 0) end
    return kernels.elementwise(kernels.mul(p.rows, p.width), p.k)
  end,

  memory = function (p)
    local picked = kernels.mul(p.rows, p.k)
    -- reads the rows; writes the k values (a_bits) and their int64 indices
    return { reads = kernels.bytes(kernels.mul(p.rows, p.width), p.a_bits),
             writes = kernels.add(kernels.bytes(picked, p.a_bits), kernels.mul(picked, 8)),
             intermediates = 0 }
  end,

  -- the gradient of the k values is scattered back to their positions: a select, no arithmetic
  backward = function (p)
    return { flops = 0, matmul_flops = 0 }
  end,

  sample_parameters = function ()
    return {
      { rows = 2048, width = 8, k = 2, a_bits = 16 },   -- Mixtral-8x7B routing over 2048 tokens
      { rows = 3, width = 64, k = 6, a_bits = 32 },
      { rows = 5, width = 7, k = 7, a_bits = 4 },
    }
  end,
}
