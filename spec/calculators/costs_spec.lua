-- The documented per-element cost table (kernels.COST, docs/calculators.md), observed through calculators
-- on tiny inputs so that each figure is the cost itself.
local lmp = require "lmp"

describe("kernels.COST as seen through the calculators", function ()
  it("prices activations per element", function ()
    assert.are.equal(1, lmp.compute_flops("torch.nn.modules.activation.ReLU", { numel = 1 }))         -- relu
    assert.are.equal(1, lmp.compute_flops("torch.nn.modules.activation.Tanh", { numel = 1 }))         -- tanh
    assert.are.equal(4, lmp.compute_flops("torch.nn.modules.activation.SiLU", { numel = 1 }))         -- silu = sigmoid 3 + mul 1
    assert.are.equal(5, lmp.compute_flops("torch.nn.modules.activation.GELU", { numel = 1, approximate = "none" }))  -- gelu
    assert.are.equal(9, lmp.compute_flops("torch.nn.modules.activation.GELU", { numel = 1, approximate = "tanh" }))  -- gelu_tanh
    assert.are.equal(9, lmp.compute_flops("transformers.activations.NewGELUActivation", { numel = 1 }))  -- gelu_tanh
    assert.are.equal(5, lmp.compute_flops("transformers.activations.GELUActivation", { numel = 1 }))     -- gelu
    assert.are.equal(5, lmp.compute_flops("torch.nn.modules.activation.Softmax", { numel = 1 }))      -- softmax
  end)

  it("prices add and mul at one FLOP", function ()
    assert.are.equal(1, lmp.compute_flops("torch.add", { numel = 1 }))
    assert.are.equal(1, lmp.compute_flops("torch.mul", { numel = 1 }))
  end)

  it("prices norms at layernorm 5 and rmsnorm 3, plus 1 for a weight and 1 for a bias", function ()
    local ln = "torch.nn.modules.normalization.LayerNorm"
    assert.are.equal(5, lmp.compute_flops(ln, { N = 1, normalized_shape = 1, elementwise_affine = false, bias = false }))
    assert.are.equal(6, lmp.compute_flops(ln, { N = 1, normalized_shape = 1, elementwise_affine = true, bias = false }))
    assert.are.equal(7, lmp.compute_flops(ln, { N = 1, normalized_shape = 1, elementwise_affine = true, bias = true }))
    local rms = "torch.nn.modules.normalization.RMSNorm"
    assert.are.equal(3, lmp.compute_flops(rms, { N = 1, normalized_shape = 1, elementwise_affine = false }))
    assert.are.equal(4, lmp.compute_flops(rms, { N = 1, normalized_shape = 1, elementwise_affine = true }))
    assert.are.equal(4, lmp.compute_flops("transformers.models.llama.modeling_llama.LlamaRMSNorm", { N = 1, hidden_size = 1 }))
  end)

  it("prices rotary at 3 per element of q and k", function ()
    -- one query head and one key head of one element each: 2 elements * 3
    assert.are.equal(6, lmp.compute_flops("transformers.models.llama.modeling_llama.apply_rotary_pos_emb",
      { batch_size = 1, seq_len = 1, num_heads = 1, num_kv_heads = 1, head_dim = 1 }))
  end)

  it("prices attention scores at scale 1 + softmax 5, + mask 1", function ()
    local sdpa = "torch.nn.functional.scaled_dot_product_attention"
    -- one score, head_dim 1: matmul 4*1*1*1*1*1 = 4, + (1 + 5) = 10 unmasked, + 1 = 11 masked
    local p = { batch_size = 1, num_heads = 1, num_kv_heads = 1, q_len = 1, key_len = 1, head_dim = 1, masked = false }
    assert.are.equal(10, lmp.compute_flops(sdpa, p))
    p.masked = true
    assert.are.equal(11, lmp.compute_flops(sdpa, p))
  end)

  it("prices dropout and embedding lookups at zero", function ()
    assert.are.equal(0, lmp.compute_flops("torch.nn.modules.dropout.Dropout", { numel = 1000 }))
    assert.are.equal(0, lmp.compute_flops("torch.nn.modules.sparse.Embedding", { N = 1000, num_embeddings = 10, embedding_dim = 10 }))
  end)
  it("prices backward passes per element from kernels.BACKWARD_COST", function ()
    local function bwd(name, p) return lmp.compute_backward(name, p).flops end
    assert.are.equal(1, bwd("torch.nn.modules.activation.ReLU", { numel = 1 }))         -- relu: g where x > 0
    assert.are.equal(3, bwd("torch.nn.modules.activation.Tanh", { numel = 1 }))         -- tanh: g*(1 - y^2)
    assert.are.equal(8, bwd("torch.nn.modules.activation.SiLU", { numel = 1 }))         -- silu
    assert.are.equal(11, bwd("torch.nn.modules.activation.GELU", { numel = 1, approximate = "none" }))  -- gelu
    assert.are.equal(19, bwd("torch.nn.modules.activation.GELU", { numel = 1, approximate = "tanh" }))  -- gelu_tanh
    assert.are.equal(19, bwd("transformers.activations.NewGELUActivation", { numel = 1 }))  -- gelu_tanh
    assert.are.equal(11, bwd("transformers.activations.GELUActivation", { numel = 1 }))     -- gelu
    assert.are.equal(4, bwd("torch.nn.modules.activation.Softmax", { numel = 1 }))      -- softmax
    assert.are.equal(1, bwd("torch.add", { numel = 1 }))                                -- add
    assert.are.equal(2, bwd("torch.mul", { numel = 1 }))                                -- mul: g*b and g*a
    assert.are.equal(0, bwd("torch.nn.modules.dropout.Dropout", { numel = 1 }))         -- dropout: a select
    assert.are.equal(1, bwd("torch.nn.modules.sparse.Embedding", { N = 1, num_embeddings = 10, embedding_dim = 1 }))  -- scatter-add
  end)

  it("prices norm backward passes at layernorm 8 and rmsnorm 6, weight gradient +2, bias +1", function ()
    local function bwd(name, p) return lmp.compute_backward(name, p).flops end
    local ln = "torch.nn.modules.normalization.LayerNorm"
    -- without affine the g*w multiply inside the 8 goes: 7
    assert.are.equal(7, bwd(ln, { N = 1, normalized_shape = 1, elementwise_affine = false, bias = false }))
    assert.are.equal(10, bwd(ln, { N = 1, normalized_shape = 1, elementwise_affine = true, bias = false }))
    assert.are.equal(11, bwd(ln, { N = 1, normalized_shape = 1, elementwise_affine = true, bias = true }))
    local rms = "torch.nn.modules.normalization.RMSNorm"
    assert.are.equal(5, bwd(rms, { N = 1, normalized_shape = 1, elementwise_affine = false }))
    assert.are.equal(8, bwd(rms, { N = 1, normalized_shape = 1, elementwise_affine = true }))
    assert.are.equal(8, bwd("transformers.models.llama.modeling_llama.LlamaRMSNorm", { N = 1, hidden_size = 1 }))
    -- rotary: the inverse rotation, 3 per element of one query and one key element
    assert.are.equal(6, bwd("transformers.models.llama.modeling_llama.apply_rotary_pos_emb",
      { batch_size = 1, seq_len = 1, num_heads = 1, num_kv_heads = 1, head_dim = 1 }))
  end)
end)

describe("the cost tables of docs/calculators.md", function ()
  -- the rows `| `op`, `op` | cost | derivation |` of its two tables: forward, then backward
  local function documented()
    local text = assert(io.open("docs/calculators.md")):read("a")
    local tables, current = {}, nil
    for line in text:gmatch("[^\n]*") do
      local names, cost = line:match("^| (`[%w_`, ]+`) | (%d+) |")
      if names then
        if not current then current = {}; tables[#tables + 1] = current end
        for op in names:gmatch("`([%w_]+)`") do current[op] = tonumber(cost) end
      elseif not line:match("^|") then
        current = nil
      end
    end
    return tables
  end

  it("list every kernels.COST and BACKWARD_COST entry, at its value", function ()
    local t = documented()
    local forward, backward = t[1], t[2]
    for _, pair in ipairs({ { lmp.kernels.COST, forward, "COST" }, { lmp.kernels.BACKWARD_COST, backward, "BACKWARD_COST" } }) do
      local n = 0
      for op, cost in pairs(pair[1]) do
        assert.are.equal(cost, pair[2][op], pair[3] .. "." .. op)
        n = n + 1
      end
      local rows = 0
      for _ in pairs(pair[2]) do rows = rows + 1 end
      assert.are.equal(n, rows, pair[3] .. ": a documented row that is not in kernels.c")
    end
  end)
end)
