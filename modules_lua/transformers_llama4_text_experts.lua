-- transformers.models.llama4.modeling_llama4.Llama4TextExperts: the experts' weights as two 3D parameters, gate_up_proj
-- [E, hidden, 2 * expert_dim] and down_proj [E, expert_dim, hidden]. A layer of this class is ONE
-- expert's slice (the builder repeats it num_local_experts times, active num_experts_per_tok) over
-- the N rows routed to it: gate_up = x @ gate_up_proj[e] (N x hidden @ hidden x 2f), gate, up = chunk,
-- (up * silu(gate)) @ down_proj[e] (N x f @ f x hidden). Elementwise: COST.silu and COST.mul over N x f.
-- Intermediates: gate_up (2f a row), silu(gate) and the product (f each). Backward: dX and dW of
-- both products, BACKWARD_COST.silu and BACKWARD_COST.mul over N x f.
local function products(p)
  return kernels.add(kernels.matmul(p.N, p.hidden_size, 2 * p.expert_dim), kernels.matmul(p.N, p.expert_dim, p.hidden_size))
end
local function weights(p) return kernels.mul(3, p.hidden_size, p.expert_dim) end

return {
  full_class_name = "transformers.models.llama4.modeling_llama4.Llama4TextExperts",

  required_parameters = function ()
    return { N = "int", hidden_size = "posint", expert_dim = "posint", w_bits = "posint", a_bits = "posint" }
  end,

  params = weights,

  matmul_flops = products,

  flops = function (p)
    return kernels.add(products(p), kernels.elementwise(kernels.mul(p.N, p.expert_dim), kernels.COST.silu + kernels.COST.mul))
  end,

  memory = function (p)
    local w = p.N > 0 and kernels.bytes(weights(p), p.w_bits) or 0
    local x = kernels.bytes(kernels.mul(p.N, p.hidden_size), p.a_bits)
    return { reads = kernels.add(x, w), writes = x, weights = w,
             intermediates = kernels.bytes(kernels.mul(p.N, 4, p.expert_dim), p.a_bits) }
  end,

  backward = function (p)
    local mm = kernels.mul(2, products(p))
    local ew = kernels.elementwise(kernels.mul(p.N, p.expert_dim), kernels.BACKWARD_COST.silu + kernels.BACKWARD_COST.mul)
    return { flops = kernels.add(mm, ew), matmul_flops = mm }
  end,

  sample_parameters = function ()
    return {
      { N = 128, hidden_size = 5120, expert_dim = 8192, w_bits = 16, a_bits = 16 },  -- Llama-4-Scout, 128 tokens to one expert
      { N = 0, hidden_size = 8, expert_dim = 4, w_bits = 4, a_bits = 16 },
      { N = 3, hidden_size = 5, expert_dim = 7, w_bits = 8, a_bits = 32 },
    }
  end,
}
