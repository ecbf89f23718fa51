-- Elementwise ops whose second operand is broadcast (a scalar scale, BLOOM's ALiBi tensor,
-- Mixtral's routing weights) read that operand at its own size, not the output's.
local lmp = require "lmp"
local h = require "spec.helpers"

local function layer(model, pattern)
  local r = lmp.analyze(model, h.AT_128)
  local found = r:find(pattern)
  assert.are.equal(1, #found, pattern)
  return found[1]
end

describe("broadcast operands", function ()
  it("torch.add reads a broadcast operand at its own size", function ()
    -- 1000 elements plus 10 broadcast ones at 2 bytes: 2,000 + 20 = 2,020; output 2,000
    local m = lmp.compute_memory("torch.add", { numel = 1000, broadcast_numel = 10 })
    assert.are.equal(2020, m.reads)
    assert.are.equal(2000, m.writes)
    -- without it both operands are full size: 4,000
    assert.are.equal(4000, lmp.compute_memory("torch.add", { numel = 1000 }).reads)
    assert.are.equal(1000, lmp.compute_flops("torch.add", { numel = 1000, broadcast_numel = 10 }))
  end)

  it("BLOOM's ALiBi add reads the (batch*heads, 1, keys) tensor, not a second score matrix", function ()
    local bloom = lmp.load_config(h.CONFIGS .. "bigscience--bloom-560m.json")
    local alibi = layer(bloom, "self_attention%.alibi$")
    -- scores 1*16*128*128 = 262,144 at 2 B = 524,288; ALiBi 1*16*128 = 2,048 at 2 B = 4,096
    assert.are.equal(524288 + 4096, alibi.reads_bytes)
  end)

  it("OPT's query scaling reads one scalar beside the queries", function ()
    local opt = lmp.load_config(h.CONFIGS .. "facebook--opt-125m.json")
    local scaling = layer(opt, "self_attn%.scaling$")
    -- 128*768 = 98,304 queries at 2 B = 196,608, plus the scalar's 2 bytes
    assert.are.equal(196608 + 2, scaling.reads_bytes)
  end)

  it("Mixtral's routing multiply reads one weight per (token, expert) pair", function ()
    local mixtral = lmp.load_model("models/mixtral-8x7b-v0.1.json")
    local mul = layer(mixtral, "routing_weight_mul$")
    -- 128 tokens * 2 experts = 256 rows of 4096: 1,048,576 at 2 B = 2,097,152; weights 256 at 2 B = 512
    assert.are.equal(2097152 + 512, mul.reads_bytes)
  end)
end)
