-- transformers Mamba2Cache: a Mamba2 layer's conv and SSM state, the same size whatever the context; a copy,
-- so no FLOPs. Every figure below is worked out by hand.
local lmp = require "lmp"

local NAME = "transformers.models.mamba2.modeling_mamba2.Mamba2Cache"

-- a Mamba-Codestral-7B layer: conv_dim 8192 + 2*8*128 = 10,240, kernel 4, 128 heads of 64, state 128
local function codestral(batch, new, extra)
  local p = { batch_size = batch, conv_dim = 10240, conv_kernel = 4, num_heads = 128, head_dim = 64,
              state_size = 128, new_tokens = new }
  for k, v in pairs(extra or {}) do p[k] = v end
  return p
end

describe(NAME, function ()
  it("computes nothing and owns no parameters", function ()
    assert.are.equal(0, lmp.compute_flops(NAME, codestral(1, 2048)))
    assert.are.equal(0, lmp.compute_matmul_flops(NAME, codestral(1, 2048)))
    assert.are.equal(0, lmp.compute_params(NAME, codestral(1, 2048)))
  end)

  it("writes and holds both states after a prefill", function ()
    -- 10,240 * 4 = 40,960 + 128 * 64 * 128 = 1,048,576 -> 1,089,536 el * 2 B = 2,179,072
    local m = lmp.compute_memory(NAME, codestral(1, 2048))
    assert.are.same({ 2179072, 2179072, 0, 2179072 }, { m.reads, m.writes, m.intermediates, m.state })
  end)

  it("holds the same state after a decode step, at the cache's width", function ()
    -- batch 4: 4 * 1,089,536 = 4,358,144 el; read at 2 B 8,716,288, written and held at 1 B 4,358,144
    local m = lmp.compute_memory(NAME, codestral(4, 1, { kv_bits = 8 }))
    assert.are.same({ 8716288, 4358144, 4358144 }, { m.reads, m.writes, m.state })
  end)

  it("keeps an untouched state when no token is new, rounding 4-bit sizes up", function ()
    -- 5 * 3 + 1 * 1 * 2 = 17 el * 4 bits = 8.5 B -> 9
    local m = lmp.compute_memory(NAME, { batch_size = 1, conv_dim = 5, conv_kernel = 3, num_heads = 1, head_dim = 1,
                                         state_size = 2, new_tokens = 0, a_bits = 4, kv_bits = 4 })
    assert.are.same({ 0, 0, 9 }, { m.reads, m.writes, m.state })
  end)
end)
