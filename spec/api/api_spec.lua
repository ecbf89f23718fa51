-- The Lua API beyond the registry calls: inline calculators, result trees, search path,
-- module check.
local lmp = require "lmp"
local h = require "spec.helpers"

local function mish(cost)
  return {
    full_class_name = "spec.api.Mish",
    required_parameters = function () return { numel = "int", a_bits = "posint" } end,
    flops = function (p) return p.numel * cost end,
    matmul_flops = function () return 0 end,
    params = function () return 0 end,
    memory = function (p) return { reads = p.numel * p.a_bits // 8, writes = p.numel * p.a_bits // 8, intermediates = 0 } end,
  }
end

describe("inline calculators", function ()
  after_each(function () lmp.registry.unregister("spec.api.Mish") end)

  it("register a calculator defined in the script and analyse a model that uses it", function ()
    lmp.register(mish(5))
    local path = h.model('[{"name": "act", "class": "spec.api.Mish", "parameters": {"numel": "${batch_size} * ${seq_len} * 4"}}]')
    local r = lmp.analyze(path, { batch_size = 2, seq_len = 3 })
    os.remove(path)
    -- numel = 2*3*4 = 24; 5 FLOPs each = 120; reads 24 * 16 bits = 48 bytes
    assert.is_true(r.complete)
    assert.are.equal(120, r.totals.flops)
    assert.are.equal(48, r.totals.reads_bytes)
    assert.are.equal(120, lmp.compute_flops("spec.api.Mish", { numel = 24 }))
  end)

  it("checks an inline calculator like a file's", function ()
    local bad = mish(5)
    bad.params = nil
    assert.error_matches(function () lmp.register(bad) end, "params must be a function", 1, true)
    local float = mish(5)
    float.flops = function (p) return p.numel / 2 end
    lmp.register(float)
    assert.error_matches(function () lmp.compute_flops("spec.api.Mish", { numel = 3 }) end, "returned 1.5, a float", 1, true)
    assert.error_matches(function () lmp.compute_flops("spec.api.Mish", { numel = -1 }) end, "parameter 'numel' must be >= 0", 1, true)
  end)
end)

describe("results", function ()
  local r
  setup(function () r = lmp.analyze("models/llama-2-7b-hf.json", { seq_len = 512 }) end)

  it("print as a one-line summary", function ()
    assert.matches("^meta%-llama/Llama%-2%-7b%-hf, prefill: [%d.]+ T FLOPs", tostring(r))
  end)

  it("walk and filter the tree", function ()
    local q = r:find("q_proj$")
    assert.are.equal(1, #q)
    assert.are.equal("model.layers.self_attn.q_proj", q[1].path)
    -- one q_proj call over 512 tokens: 2*512*4096*4096 = 17,179,869,184
    assert.are.equal(17179869184, q[1].matmul_flops)
    assert.matches("q_proj %(Linear%)", tostring(q[1]))
    local linears = r:find("Linear$", "class")
    assert.are.equal(8, #linears) -- q, k, v, o, gate, up, down, lm_head
    local count, deepest = 0, 0
    for _, depth in r:nodes() do count, deepest = count + 1, math.max(deepest, depth) end
    assert.are.equal(3, deepest)
    assert.is_true(count > #r:basic_layers())
  end)

  it("format themselves", function ()
    assert.matches('^{"complete":true', r:format("json"))
    assert.matches("^path,depth,name", lmp.format(r, "csv"))
  end)
end)

describe("calculator search path", function ()
  it("puts --modules, LMP_PATH and the XDG data folder ahead of the bundled ones", function ()
    local data = h.tmpdir()
    assert(lmp.core.mkdir_p(data .. "/lmp/modules"))
    local f = assert(io.open(data .. "/lmp/modules/torch_linear.lua", "w"))
    f:write(lmp.core.read_file("modules_lua/torch_linear.lua"))
    f:close()
    local out = h.run_env({ XDG_DATA_HOME = data, LMP_PATH = "" }, "module", "list")
    assert.matches("torch_Linear%s+torch.nn.modules.linear.Linear%s+user " .. data:gsub("%p", "%%%0") .. "/lmp/modules\n", out)
    assert.matches("%(shadowed by " .. data:gsub("%p", "%%%0"), out)
  end)
end)

describe("lmp module check", function ()
  it("passes a good calculator and fails a bad one with the reason", function ()
    local out, _, code = h.run("module", "check", "modules_lua/torch_linear.lua")
    assert.are.equal(0, code)
    assert.are.equal("ok    modules_lua/torch_linear.lua\n", out)
    out, _, code = h.run("module", "check", h.fixtures .. "/modules/spec_negative.lua")
    assert.are.equal(4, code)
    assert.matches("flops%(%) returned %-1, a negative value", out)
  end)
end)

describe("lmp.load", function ()
  it("takes a model JSON, a config.json or a folder holding one", function ()
    assert.are.equal("meta-llama/Llama-2-7b-hf", lmp.load("models/llama-2-7b-hf.json").model_id)
    local m = lmp.load(h.CONFIGS .. "mistralai--Mistral-7B-v0.1.json")
    assert.are.equal(7241732096, lmp.analyze(m, { seq_len = 8 }).totals.params)
    local dir = h.tmpdir()
    local f = assert(io.open(dir .. "/config.json", "w"))
    f:write(lmp.core.read_file(h.CONFIGS .. "openai-community--gpt2.json"))
    f:close()
    assert.are.equal(124439808, lmp.analyze(lmp.load(dir), { seq_len = 8 }).totals.params)
  end)
end)

describe("figures past 2^63", function ()
  it("stay exact through generate", function ()
    -- Llama-2-70B, batch 4096, a 131,072-token prompt. Linear weights:
    --   80 * (2*8192^2 + 2*8192*1024 + 3*8192*28672) + 8192*32000 = 68,713,185,280
    -- prefill matmuls (lm_head 8192*32000 over the last token only, generate's logits_to_keep=1):
    --   2*4096*131072*(68,713,185,280 - 262,144,000) + 2*4096*262,144,000
    --   + 4*80 layers*4096*64 heads*131072^2*128 + rotary_emb 4096*131072*128 (68,719,476,736)
    --   = 257,966,188,871,985,135,616, past 2^63 (9.2e18)
    local m = lmp.load_model("models/llama-2-70b-hf.json")
    local r = lmp.generate(m, { prompt_len = 131072, new_tokens = 3, batch_size = 4096 })
    assert.are.equal("257966188871985135616", r.steps.prefill.matmul_flops)
    -- the totals are the exact 128-bit sums of the prefill and the two decode steps
    assert.are.equal("string", type(r.totals.flops))
    assert.are.equal(r.totals.flops, lmp.eval("${a} + ${b}", { a = r.steps.prefill.flops, b = r.steps.decode.flops }))
    assert.matches("^%d+$", r.totals.flops)
  end)
end)
