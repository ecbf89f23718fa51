-- Every activation of transformers' ACT2FN (ACT2CLS in src/transformers/activations.py; the 24
-- keys of the 2026 releases) has a calculator, and common.ACTIVATIONS maps each key to its
-- class. Per-element costs are lmp's documented convention (docs/calculators.md: one FLOP an
-- arithmetic operation, comparison or transcendental); each figure below is worked by hand from
-- the class's forward. spec/calculators/activations_math_spec.lua checks the formulas against
-- PyTorch's functions.
local lmp = require "lmp"
local h = require "spec.helpers"
local common = require "lmp.builders.common"

-- ACT2CLS's keys, in its order
local ACT2FN_KEYS = {
  "gelu", "gelu_10", "gelu_fast", "gelu_new", "gelu_python", "gelu_pytorch_tanh", "gelu_python_tanh",
  "gelu_accurate", "hardswish", "laplace", "leaky_relu", "linear", "mish", "quick_gelu", "relu", "relu2",
  "relu6", "sigmoid", "silu", "sqrtsoftplus", "swish", "tanh", "prelu", "xielu",
}

-- class -> forward and backward FLOPs of one element, counted from its forward:
local PER_ELEMENT = {
  -- 0.5*x*(1 + tanh(x*0.7978845608*(1 + 0.044715*x*x))): x*x, *a, +1, x*c, *, tanh, +1, 0.5*x, * = 9
  ["transformers.activations.FastGELUActivation"] = { 9, 19 },
  -- x*sigmoid(1.702x): scale 1, sigmoid 3, *x 1 = 5; backward kx and s (4), 1-s, s(1-s), *kx, +s, *g = 9
  ["transformers.activations.QuickGELUActivation"] = { 5, 9 },
  -- clip(gelu(x), -10, 10): gelu 5 + two comparisons = 7; backward gelu's 11 + the clip's mask 2 = 13
  ["transformers.activations.ClippedGELUActivation"] = { 7, 13 },
  -- NewGELU's formula: 9 (x^3 counted as 2 multiplies), 19
  ["transformers.activations.AccurateGELUActivation"] = { 9, 19 },
  ["transformers.activations.GELUTanh"] = { 9, 19 },
  -- 0.5*(1 + erf((x - mu)/(sigma*sqrt2))): -mu, /, erf, +1, *0.5 = 5; backward z (2), z^2, -, exp, *c, *g = 7
  ["transformers.activations.LaplaceActivation"] = { 5, 7 },
  -- the input itself: nothing
  ["transformers.activations.LinearActivation"] = { 0, 0 },
  -- x*tanh(log(1 + exp(x))): exp, +1, log, tanh, * = 5; backward 11
  ["transformers.activations.MishActivation"] = { 5, 11 },
  -- square(relu(x)): 2; backward 2r, *g, the relu's select = 3
  ["transformers.activations.ReLUSquaredActivation"] = { 2, 3 },
  ["transformers.activations.SiLUActivation"] = { 4, 8 },
  -- sqrt(log(1 + exp(x))): 4; backward g*sigmoid(x)/(2y): 3 + 1 + 1 + 1 = 6
  ["transformers.activations.SqrtSoftplusActivation"] = { 4, 6 },
  -- where(x > 0, ap*x*x + b*x, (expm1(min(x, eps)) - x)*an + b*x): 4 + 6 + 1 = 11; backward the input's 10,
  -- alpha_p's x*x*g selected and summed 4, alpha_n's (e - 1 - x)*g selected and summed 5 = 19
  ["transformers.activations.XIELUActivation"] = { 11, 19 },
  -- x*relu6(x + 3)/6: +3, max, min, *, / = 5; backward two comparisons, x/3, +0.5, *g = 5
  ["torch.nn.modules.activation.Hardswish"] = { 5, 5 },
  -- x > 0 ? x : s*x: product and select = 2; backward the same 2
  ["torch.nn.modules.activation.LeakyReLU"] = { 2, 2 },
  -- as LeakyReLU with a learned slope; backward + the slope's g*x selected where x <= 0 and summed (3) = 5
  ["torch.nn.modules.activation.PReLU"] = { 2, 5 },
  -- min(max(x, 0), 6): 2; backward g where 0 < x < 6: 2
  ["torch.nn.modules.activation.ReLU6"] = { 2, 2 },
  -- 1/(1 + exp(-x)): 3; backward g*y*(1 - y): 3
  ["torch.nn.modules.activation.Sigmoid"] = { 3, 3 },
}

describe("ACT2FN", function ()
  it("has every key in common.ACTIVATIONS, and nothing else", function ()
    local seen = {}
    for _, key in ipairs(ACT2FN_KEYS) do
      assert.is_string(common.ACTIVATIONS[key], key)
      seen[key] = true
    end
    for key in pairs(common.ACTIVATIONS) do assert.is_true(seen[key], key) end
  end)

  it("maps every key to a class with a calculator (no UNKNOWN)", function ()
    for _, key in ipairs(ACT2FN_KEYS) do
      local class = common.ACTIVATIONS[key]
      assert.is_not_nil(lmp.registry.find(class), key .. " -> " .. class)
      -- one element, with the constructor's defaults for the rest
      assert.is_true(math.type(lmp.compute_flops(class, { numel = 1 })) == "integer", class)
    end
  end)

  it("builds and prices every hidden_act a gpt_neox config can name", function ()
    -- pythia-160m: an activation over 128 tokens x 3072 = 393,216 elements in each of its 12 layers
    -- (the row is one layer's)
    for _, key in ipairs(ACT2FN_KEYS) do
      local r = lmp.analyze(h.build(h.edited_config("EleutherAI--pythia-160m.json", { hidden_act = key })), h.AT_128)
      assert.is_true(r.complete, key)
      assert.are.same({}, r.unknown_modules, key)
      local acts = r:find("%.act$")
      assert.are.equal(1, #acts, key)
      assert.are.equal(common.ACTIVATIONS[key], acts[1].class, key)
      local cost = lmp.compute_flops(common.ACTIVATIONS[key], { numel = 1 })
      assert.are.equal(393216 * cost, acts[1].flops, key)
    end
  end)
end)

describe("activation calculators", function ()
  -- gpt-neox-20b's MLP activation at 2048 tokens: 2048 * 24576 = 50,331,648 elements
  local NUMEL = 50331648

  it("cost their hand-counted FLOPs an element, forward and backward, with no matrix product", function ()
    for class, c in pairs(PER_ELEMENT) do
      assert.are.equal(c[1], lmp.compute_flops(class, { numel = 1 }), class)
      assert.are.equal(c[1] * NUMEL, lmp.compute_flops(class, { numel = NUMEL }), class)
      assert.are.equal(0, lmp.compute_matmul_flops(class, { numel = NUMEL }), class)
      assert.are.same({ flops = c[2] * NUMEL, matmul_flops = 0 }, lmp.compute_backward(class, { numel = NUMEL }), class)
    end
  end)

  it("read the input and write the output at a_bits; LinearActivation moves nothing", function ()
    for class in pairs(PER_ELEMENT) do
      local weights = (class:match("PReLU$") and 1 or class:match("XIELU") and 2 or 0) * 2 -- at w_bits 16
      if class:match("LinearActivation$") then
        local m = lmp.compute_memory(class, { numel = NUMEL })
        assert.are.same({ 0, 0 }, { m.reads, m.writes }, class)
      else
        local m = lmp.compute_memory(class, { numel = NUMEL, a_bits = 8 })
        -- 50,331,648 elements at 8 bits = 50,331,648 bytes each way
        assert.are.same({ NUMEL + weights, NUMEL, 0 }, { m.reads, m.writes, m.intermediates }, class)
      end
    end
  end)

  it("FastGELU, AccurateGELU and GELUTanh cost what NewGELU and torch's tanh GELU cost", function ()
    local p = { numel = 1000 }
    local new = lmp.compute_flops("transformers.activations.NewGELUActivation", p)
    assert.are.equal(9000, new)
    assert.are.equal(new, lmp.compute_flops("torch.nn.modules.activation.GELU", { numel = 1000, approximate = "tanh" }))
    for _, c in ipairs({ "FastGELUActivation", "AccurateGELUActivation", "GELUTanh", "PytorchGELUTanh" }) do
      assert.are.equal(new, lmp.compute_flops("transformers.activations." .. c, p), c)
    end
  end)

  it("answer to their db keys", function ()
    assert.are.equal(90, lmp.compute_flops("transformers_FastGELUActivation", { numel = 10 }))
    assert.are.equal(50, lmp.compute_flops("transformers_QuickGELUActivation", { numel = 10 }))
    assert.are.equal(20, lmp.compute_flops("torch_ReLU6", { numel = 10 }))
  end)
end)

describe("PReLU", function ()
  local NAME = "torch.nn.modules.activation.PReLU"

  it("has num_parameters slopes, 1 by default as PReLU(num_parameters=1)", function ()
    assert.are.equal(1, lmp.compute_params(NAME, { numel = 100 }))
    assert.are.equal(64, lmp.compute_params(NAME, { numel = 100, num_parameters = 64 }))
  end)

  it("reads its slopes at w_bits beside the input", function ()
    -- 4 x 64 x 8 x 8 input (16,384 elements) with 64 slopes: 16,384 * 2 B + 64 * 2 B
    local m = lmp.compute_memory(NAME, { numel = 16384, num_parameters = 64 })
    assert.are.same({ 32768 + 128, 32768, 128 }, { m.reads, m.writes, m.weights })
    -- 4-bit slopes: 64 * 4 / 8 = 32 bytes; an empty input reads none
    assert.are.equal(32, lmp.compute_memory(NAME, { numel = 16384, num_parameters = 64, w_bits = 4 }).weights)
    assert.are.same({ 0, 0 }, { lmp.compute_memory(NAME, { numel = 0, num_parameters = 64 }).reads,
                                lmp.compute_memory(NAME, { numel = 0, num_parameters = 64 }).weights })
  end)

  it("prices 2 FLOPs an element forward, 5 backward (input and slope gradients)", function ()
    assert.are.equal(32768, lmp.compute_flops(NAME, { numel = 16384, num_parameters = 64 }))
    assert.are.same({ flops = 81920, matmul_flops = 0 }, lmp.compute_backward(NAME, { numel = 16384 }))
  end)

  it("rejects zero slopes", function ()
    assert.has_error(function () lmp.compute_flops(NAME, { numel = 1, num_parameters = 0 }) end)
  end)
end)

describe("XIELUActivation", function ()
  local NAME = "transformers.activations.XIELUActivation"

  it("has two one-value weights, alpha_p and alpha_n (beta and eps are buffers)", function ()
    assert.are.equal(2, lmp.compute_params(NAME, { numel = 10 }))
    -- read at 16 bits: 4 bytes, beside 10 * 2 input bytes
    local m = lmp.compute_memory(NAME, { numel = 10 })
    assert.are.same({ 24, 20, 4 }, { m.reads, m.writes, m.weights })
  end)
end)

describe("EleutherAI/gpt-neox-20b (hidden_act gelu_fast)", function ()
  local CONFIG = h.CONFIGS .. "EleutherAI--gpt-neox-20b.json"

  it("analyses completely: exit 0, FastGELUActivation priced in all 44 layers", function ()
    local out, err, code = h.run("analyze", "--config", CONFIG, "--format", "json")
    assert.are.equal(0, code, err)
    local r = lmp.json_decode(out)
    assert.are.same({}, r.unknown_modules)
    -- the model card's 20,554,567,680: embed_in and embed_out 50432 * 6144 = 309,854,208 each;
    -- per layer 2 LayerNorms 24,576 + query_key_value 6144 * 18432 + 18432 = 113,264,640 + dense 37,754,880
    -- + dense_h_to_4h 151,019,520 + dense_4h_to_h 151,001,088 = 453,064,704, x 44 = 19,934,846,976;
    -- final_layer_norm 12,288
    assert.are.equal(20554567680, r.totals.params)
  end)

  it("counts the activation at 9 FLOPs an element", function ()
    local r = lmp.analyze(lmp.load_config(CONFIG), { batch_size = 1, seq_len = 2048, kv_len = 0 })
    local acts = r:find("%.act$")
    assert.are.equal(1, #acts)
    assert.are.equal("transformers.activations.FastGELUActivation", acts[1].class)
    -- one layer's (the row is per instance of the x44 block): 2048 tokens * 24576 * 9 = 452,984,832
    assert.are.equal(452984832, acts[1].flops)
  end)
end)
