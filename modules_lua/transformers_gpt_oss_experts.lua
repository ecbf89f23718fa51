-- transformers.models.gpt_oss.modeling_gpt_oss.GptOssExperts: the experts' weights as 3D parameters with biases, gate_up_proj
-- [E, hidden, 2 * expert_dim] + gate_up_proj_bias [E, 2 * expert_dim], down_proj [E, expert_dim, hidden]
-- + down_proj_bias [E, hidden]. A layer of this class is ONE expert's slice (the builder repeats it
-- num_local_experts times, active num_experts_per_tok) over the N rows routed to it:
--   gate_up = x @ gate_up_proj[e] + bias (N x hidden @ hidden x 2f, then COST.add over N x 2f);
--   gate, up = gate_up[..., ::2], gate_up[..., 1::2]; gate.clamp(max=limit) (COST.relu, one bound),
--   up.clamp(-limit, limit) (2 COST.relu); glu = gate * sigmoid(gate * alpha) (COST.scale, COST.sigmoid,
--   COST.mul); (up + 1) * glu (COST.add, COST.mul): 10 FLOPs over N x f;
--   out = that @ down_proj[e] + bias (N x f @ f x hidden, COST.add over N x hidden).
-- Intermediates: gate_up (2f a row), glu and the product (f each). Backward: dX and dW of both
-- products; the bias gradients (BACKWARD_COST.add over N x 2f and N x hidden); through the gate
-- 2 BACKWARD_COST.mul, BACKWARD_COST.sigmoid, BACKWARD_COST.scale, BACKWARD_COST.add and the two
-- clamps' masks (COST.relu each) over N x f.
local function products(p)
  return kernels.add(kernels.matmul(p.N, p.hidden_size, 2 * p.expert_dim), kernels.matmul(p.N, p.expert_dim, p.hidden_size))
end
local function weights(p)
  local h, f = p.hidden_size, p.expert_dim
  return kernels.add(kernels.mul(3, h, f), 2 * f, h)
end
local C, B = kernels.COST, kernels.BACKWARD_COST
local SWIGLU = 3 * C.relu + C.scale + C.sigmoid + 2 * C.mul + C.add
local SWIGLU_BACKWARD = 2 * B.mul + B.sigmoid + B.scale + B.add + 2 * C.relu

local function elementwise(p, per_f, bias)
  local nf = kernels.mul(p.N, p.expert_dim)
  return kernels.add(kernels.elementwise(nf, per_f), kernels.elementwise(kernels.mul(2, nf), bias),
                     kernels.elementwise(kernels.mul(p.N, p.hidden_size), bias))
end

return {
  full_class_name = "transformers.models.gpt_oss.modeling_gpt_oss.GptOssExperts",

  required_parameters = function ()
    return { N = "int", hidden_size = "posint", expert_dim = "posint", w_bits = "posint", a_bits = "posint" }
  end,

  params = weights,

  matmul_flops = products,

  flops = function (p)
    return kernels.add(products(p), elementwise(p, SWIGLU, C.add))
  end,

  memory = function (p)
    local w = p.N > 0 and kernels.bytes(weights(p), p.w_bits) or 0
    local x = kernels.bytes(kernels.mul(p.N, p.hidden_size), p.a_bits)
    return { reads = kernels.add(x, w), writes = x, weights = w,
             intermediates = kernels.bytes(kernels.mul(p.N, 4, p.expert_dim), p.a_bits) }
  end,

  backward = function (p)
    local mm = kernels.mul(2, products(p))
    return { flops = kernels.add(mm, elementwise(p, SWIGLU_BACKWARD, B.add)), matmul_flops = mm }
  end,

  sample_parameters = function ()
    return {
      { N = 128, hidden_size = 2880, expert_dim = 2880, w_bits = 16, a_bits = 16 },  -- gpt-oss, 128 tokens to one expert
      { N = 0, hidden_size = 8, expert_dim = 4, w_bits = 4, a_bits = 16 },
      { N = 3, hidden_size = 5, expert_dim = 7, w_bits = 8, a_bits = 32 },
    }
  end,
}
