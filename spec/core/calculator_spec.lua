-- The calculator object (calc.c): a userdata whose fields Lua reads through __index, one C
-- parameter array built when it is made, aliases that share it, and the one limit on how
-- many parameters a calculator takes.
local lmp = require "lmp"
local core = lmp.core

local LINEAR = "modules_lua/torch_linear.lua"
local LINEAR_PARAMS = { N = 10, in_features = 512, out_features = 256, bias = true, w_bits = 16, a_bits = 16 }

-- a calculator table taking n integer parameters p001.., each defaulting to 1; flops is their sum
local function wide(n, name)
  local names = {}
  for i = 1, n do names[i] = ("p%03d"):format(i) end
  return {
    full_class_name = name or "spec.calc.Wide",
    required_parameters = function ()
      local r = {}
      for _, k in ipairs(names) do r[k] = { type = "int", default = 1 } end
      return r
    end,
    flops = function (p)
      local s = 0
      for _, k in ipairs(names) do s = s + p[k] end
      return s
    end,
    matmul_flops = function () return 0 end,
    params = function () return 0 end,
    memory = function () return { reads = 0, writes = 0, intermediates = 0 } end,
  }
end

describe("the calculator object", function ()
  it("is a userdata whose fields are read through its metatable", function ()
    local calc = core.load_calculator(LINEAR)
    assert.are.equal("userdata", type(calc))
    assert.are.equal(LINEAR, calc.file)
    assert.are.equal("torch.nn.modules.linear.Linear", calc.full_class_name)
    assert.are.same({ "N", "a_bits", "bias", "in_features", "out_features", "w_bits" }, calc.names)
    assert.are.equal("function", type(calc.impl.flops))
    assert.is_nil(calc.same_as)
    -- the REPL completes a value's fields from its metatable's __index
    assert.are.equal(calc.required, getmetatable(calc).__index.required)
    assert.are.equal("lmp.Calculator: torch.nn.modules.linear.Linear (" .. LINEAR .. ")", tostring(calc))
  end)

  it("keeps each parameter's normalised spec in required", function ()
    local calc = core.load_calculator(LINEAR)
    assert.are.same({ type = "int", declared = "posint", min = 1 }, calc.required.in_features)
    assert.are.same({ type = "bool", declared = { type = "bool", default = true }, default = true }, calc.required.bias)
  end)

  it("is what core.compute takes, and nothing else", function ()
    local calc = core.load_calculator(LINEAR)
    assert.are.equal(2 * 10 * 512 * 256 + 10 * 256, core.compute(calc, LINEAR_PARAMS).flops)
    assert.error_matches(function () core.compute({ file = "x", impl = calc.impl }, LINEAR_PARAMS) end,
      "lmp.Calculator expected, got table", 1, true)
    assert.error_matches(function () core.call_calculator(calc.impl, "flops", {}) end, "lmp.Calculator expected", 1, true)
  end)

  it("is made from a script's table with the same checks", function ()
    local calc = core.calculator_from_table("(a table)", wide(3))
    assert.are.equal("(a table)", calc.file)
    assert.are.same({ "p001", "p002", "p003" }, calc.names)
    assert.are.equal(3, core.compute(calc, {}).flops)
    assert.error_matches(function () core.compute(calc, { p00 = 1 }) end,
      "parameter 'p00' is not one (a table) takes; did you mean 'p001', 'p002', 'p003'?", 1, true)
  end)
end)

describe("an alias of a calculator", function ()
  it("shares the parameters and the implementation, under its own name and file", function ()
    local calc = core.load_calculator(LINEAR)
    local alias = core.calculator_alias(calc, "spec.calc.MyLinear", "my_linear.lua", "torch.nn.modules.linear.Linear")
    assert.are.equal("spec.calc.MyLinear", alias.full_class_name)
    assert.are.equal("my_linear.lua", alias.file)
    assert.are.equal("torch.nn.modules.linear.Linear", alias.same_as)
    assert.are.equal(calc.required, alias.required)
    assert.are.equal(calc.names, alias.names)
    assert.are.equal(calc.impl, alias.impl)
    assert.are.same(core.compute(calc, LINEAR_PARAMS), core.compute(alias, LINEAR_PARAMS))
    -- errors name the alias's file, which is what the user wrote
    assert.error_matches(function () core.compute(alias, { N = 1 }) end, "for my_linear.lua", 1, true)
    -- the original is untouched
    assert.are.equal(LINEAR, calc.file)
    assert.is_nil(calc.same_as)
  end)

  it("takes its file and same_as from the calculator when not given (an `also` class)", function ()
    local calc = core.load_calculator(LINEAR)
    local alias = core.calculator_alias(calc, "spec.calc.Other")
    assert.are.equal(LINEAR, alias.file)
    assert.is_nil(alias.same_as)
    assert.are.equal("spec.calc.Other", alias.full_class_name)
  end)

  it("is what the registry answers for a same_as file and for a class of an also list", function ()
    local norm = lmp.registry.get("transformers.models.mistral.modeling_mistral.MistralRMSNorm")
    local llama = lmp.registry.get("transformers.models.llama.modeling_llama.LlamaRMSNorm")
    assert.are.equal("transformers.models.mistral.modeling_mistral.MistralRMSNorm", norm.full_class_name)
    assert.matches("transformers_mistral_rms_norm.lua$", norm.file)
    assert.are.equal(llama.full_class_name, norm.same_as)
    assert.are.equal(llama.required, norm.required)
    local rope = lmp.registry.get("transformers.models.mistral.modeling_mistral.apply_rotary_pos_emb")
    assert.are.equal("transformers.models.mistral.modeling_mistral.apply_rotary_pos_emb", rope.full_class_name)
    assert.matches("transformers_apply_rotary_pos_emb.lua$", rope.file)
    assert.are.equal("userdata", type(rope))
  end)
end)

describe("the parameter limit", function ()
  after_each(function () lmp.registry.unregister("spec.calc.Wide") end)

  it("takes 512 parameters, and the walk's memo covers such a calculator", function ()
    lmp.register(wide(512))
    local m = lmp.load_model_string('{"model_id": "wide", "layers": [' ..
      '{"name": "a", "class": "spec.calc.Wide"}, {"name": "b", "class": "spec.calc.Wide"}]}')
    local r = lmp.analyze(m, {})
    assert.are.equal(1024, r.totals.flops)
    assert.are.equal(1, r.evaluations) -- b's key is a's: one call
  end)

  it("refuses 513, saying so", function ()
    assert.error_matches(function () core.calculator_from_table("(wide)", wide(513)) end,
      "(wide): more than 512 parameters", 1, true)
  end)
end)

describe("the REPL", function ()
  it("completes a calculator object's fields, and theirs", function ()
    local repl = require "lmp.repl"
    _G.spec_calc = lmp.registry.get("transformers.models.mistral.modeling_mistral.apply_rotary_pos_emb")
    local ok, fields, impl = pcall(function () return repl.complete("spec_calc.", 0), repl.complete("spec_calc.impl.f", 0) end)
    _G.spec_calc = nil
    assert(ok, fields)
    assert.are.same({ "spec_calc.file", "spec_calc.full_class_name", "spec_calc.impl.", "spec_calc.names.", "spec_calc.required." }, fields)
    assert.are.same({ "spec_calc.impl.flops", "spec_calc.impl.full_class_name" }, impl)
  end)
end)

describe("a calculator whose fields a script changes", function ()
  it("keeps its own names and file, and fails cleanly without its required table", function ()
    local calc = core.calculator_from_table("(kept)", wide(2))
    local fields = getmetatable(calc).__index
    fields.file, fields.full_class_name, fields.names = nil, nil, nil
    fields.required.p001, fields.required.p002 = nil, nil
    collectgarbage()
    collectgarbage()
    assert.are.equal("lmp.Calculator: spec.calc.Wide ((kept))", tostring(calc))
    assert.error_matches(function () core.compute(calc, {}) end, "attempt to index a nil value", 1, true)
  end)

  it("checks parameter names without the fields (a stranger is still named)", function ()
    local calc = core.calculator_from_table("(kept)", wide(2))
    getmetatable(calc).__index.required = nil
    assert.error_matches(function () core.compute(calc, { p001 = 1, p002 = 1, p003 = 1 }) end,
      "parameter 'p003' is not one (kept) takes; did you mean 'p001', 'p002'?", 1, true)
  end)
end)

describe("an alias file as loaded", function ()
  it("is not called: the registry resolves it", function ()
    local calc = core.load_calculator("modules_lua/transformers_mistral_rms_norm.lua")
    assert.are.equal("transformers.models.llama.modeling_llama.LlamaRMSNorm", calc.same_as)
    assert.error_matches(function () core.compute(calc, { N = 1 }) end,
      "an alias file (same_as) prices nothing itself", 1, true)
  end)
end)
