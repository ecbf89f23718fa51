-- core.exact: integer arithmetic on figures (Lua integers, or exact decimal strings past
-- 2^63-1) without formula strings. Expected values worked out by hand.
local core = require "lmp.core"
local x = core.exact

describe("core.exact", function ()
  it("adds, subtracts and multiplies past 64 bits, giving a string only when needed", function ()
    assert.equal("9223372036854775808", x.add(math.maxinteger, 1))
    assert.equal(math.maxinteger, x.sub("9223372036854775808", 1))
    assert.equal("36893488147419103232", x.mul(1 << 62, 8)) -- 2^65
    assert.equal(10, x.add(1, 2, 3, 4))
    assert.equal(0, x.add())
    assert.equal(-3, x.sub(2, 5))
  end)
  it("divides rounding down (div) or up (ceil_div), as Lua's // and ceil", function ()
    assert.equal(3, x.div(7, 2))
    assert.equal(-4, x.div(-7, 2))
    assert.equal(4, x.ceil_div(7, 2))
    assert.equal(-3, x.ceil_div(-7, 2))
    assert.equal(4, x.ceil_div(8, 2))
    -- ceil(6738415616 params * 4 bits / 8) = 3369207808 bytes
    assert.equal(3369207808, x.ceil_div(x.mul(6738415616, 4), 8))
    assert.has_error(function () x.div(1, 0) end)
  end)
  it("compares and takes the larger", function ()
    assert.equal(1, x.cmp("9223372036854775808", math.maxinteger))
    assert.equal(0, x.cmp("12", 12))
    assert.equal(-1, x.cmp(-1, 0))
    assert.equal("9223372036854775808", x.max(5, "9223372036854775808", 7))
  end)
  it("gives decimal text and canonical values", function ()
    assert.equal("42", x.tostring(42))
    assert.equal(42, x.value("42"))
    assert.is_nil(x.value("4.2"))
    assert.is_nil(x.value(4.5))
  end)
  it("refuses floats, non-numbers and results past 128 bits", function ()
    assert.has_error(function () x.add(1, 0.5) end)
    assert.has_error(function () x.add(1, "12a") end)
    assert.has_error(function () x.add(1, {}) end)
    local big = "170141183460469231731687303715884105727" -- 2^127 - 1
    assert.has_error(function () x.add(big, 1) end)
    assert.has_error(function () x.mul(big, 2) end)
    assert.equal("-170141183460469231731687303715884105728", x.sub(x.sub(0, big), 1))
  end)
end)

describe("the concept tables", function ()
  it("list every figure a result carries, in order, also by name", function ()
    local names = {}
    for i, f in ipairs(core.FIGURES) do
      names[i] = f.name
      assert.equal(f, core.FIGURES[f.name])
    end
    assert.same({ "flops", "matmul_flops", "params", "active_params", "reads_bytes", "writes_bytes",
                  "intermediates_bytes", "weight_bytes", "state_bytes", "peak_activation_bytes",
                  "backward_flops", "backward_matmul_flops", "backward_reads_bytes", "backward_writes_bytes",
                  "optimizer_bytes" }, names)
    assert.equal("reads", core.FIGURES.reads_bytes.call)
    assert.is_true(core.FIGURES.backward_flops.train_only)
    for _, f in ipairs(core.FIGURES) do assert.is_true(f.exact, f.name) end -- every figure today is an exact count
    assert.equal("memory().weights", core.CALL_FIGURES.weights.source)
  end)
  it("list the runtime inputs with defaults and ranges", function ()
    assert.equal(10, #core.INPUTS)
    assert.same({ "eager", "sdpa", "flash" }, core.INPUTS.attention.choices)
    assert.equal(1, core.INPUTS.attention.default) -- sdpa, transformers' default
    assert.is_true(core.INPUTS.attention.when_used)
    assert.equal(224, core.INPUTS.image_size.default)
    assert.is_true(core.INPUTS.image_size.when_used)
    assert.equal(2048, core.INPUTS.seq_len.default)
    assert.equal("kv_len + seq_len", core.INPUTS.enc_len.default_from)
    assert.equal("seq_len", core.INPUTS.logits_len.default_from)
    assert.equal(64, core.INPUTS.kv_bits.max)
    assert.equal(0, core.INPUTS.kv_len.min)
    assert.equal("w_dtype_bytes", core.INPUTS.w_bits.bytes_name)
  end)
  it("list the phases", function ()
    local names = {}
    for i, p in ipairs(core.PHASES) do names[i] = p.name end
    assert.same({ "prefill", "decode", "train", "generate" }, names)
    assert.is_true(core.PHASES.train.backward)
    assert.is_true(core.PHASES.generate.steps)
  end)
end)
