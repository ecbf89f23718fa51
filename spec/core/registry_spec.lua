-- The registry: names, lookup by full class name or db key, and the original's paved path.
local lmp = require "lmp"
local registry = lmp.registry

describe("registry", function ()
  it("derives keys and file names from full class names", function ()
    assert.are.equal("torch_Linear", registry.key_of("torch.nn.modules.linear.Linear"))
    assert.are.equal("transformers_llama_rms_norm", registry.snake_case("transformers_LlamaRMSNorm"))
    assert.are.equal("transformers_gpt2_attention", registry.snake_case("transformers_GPT2Attention"))
    assert.are.equal("transformers_conv1d", registry.snake_case("transformers_Conv1D"))
    assert.are.equal("torch_scaled_dot_product_attention", registry.snake_case("torch_scaled_dot_product_attention"))
  end)

  it("finds a calculator by full class name and by db key", function ()
    local by_class = registry.get("torch.nn.modules.linear.Linear")
    local by_key = registry.get("torch_Linear")
    assert.are.equal(by_class, by_key)
    assert.matches("modules_lua/torch_linear.lua$", by_class.file)
  end)

  it("answers get_required_parameters, compute_flops and compute_memory", function ()
    assert.are.same({ N = "int", in_features = "posint", out_features = "posint", bias = "bool", w_bits = "posint", a_bits = "posint" },
      lmp.get_required_parameters("torch.nn.modules.linear.Linear"))
    -- 2*10*512*256 = 2,621,440 plus the bias add 10*256 = 2,560
    local p = { N = 10, in_features = 512, out_features = 256, bias = true }
    assert.are.equal(2623999 + 1, lmp.compute_flops("torch_Linear", p))
    -- reads: 10*512*2 + (512*256 + 256)*2 = 10,240 + 262,656 = 272,896, of which weights 262,656;
    -- writes 10*256*2 = 5,120; a Linear holds no state
    assert.are.same({ reads = 272896, writes = 5120, intermediates = 0, weights = 262656, state = 0 },
      lmp.compute_memory("torch_Linear", p))
  end)

  it("says clearly when there is no calculator", function ()
    assert.error_matches(function () lmp.compute_flops("some.lib.Mystery", {}) end,
      "no calculator for some.lib.Mystery (looked for ", 1, true)
    assert.error_matches(function () lmp.compute_flops("nodots", {}) end, "no calculator for nodots", 1, true)
  end)

  it("lists every bundled calculator with its origin", function ()
    local rows = registry.list()
    assert.is_true(#rows >= 20)
    for _, r in ipairs(rows) do assert.is_nil(r.error, r.file .. ": " .. tostring(r.error)) end
  end)
end)
