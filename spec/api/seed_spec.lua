-- The original LM-Predictor's registry calls (its DESIGN.md and CLAUDE.md), as a user migrating
-- from it types them, in Lua and on the CLI:
--   get_required_parameters('torch.nn.modules.linear.Linear')
--   compute_flops('torch.nn.modules.linear.Linear', N=32, in_features=4096, out_features=11008, dtype_bytes=4)
--   compute_memory('torch.nn.modules.linear.Linear', N=10, in_features=512, out_features=256, dtype_bytes=4)
-- Expected figures are worked out by hand from docs/calculators.md's model of a Linear:
--   flops = 2*N*in*out (the product, kernels.matmul) + N*out (the bias add, COST.add = 1);
--   reads = N*in activations + (in*out + out) weights, writes = N*out, each at its bit width
--   ("Memory convention": no fusion, activations at a_bits, weights at w_bits), and
--   dtype_bytes = 4 is w_bits = a_bits = 32, 4 bytes an element.
local lmp = require "lmp"
local h = require "spec.helpers"

local LINEAR = "torch.nn.modules.linear.Linear"

-- 2*32*4096*11008 = 2,885,681,152; bias adds 32*11008 = 352,256; 2,886,033,408 in all
local SEED_FLOPS, SEED_MATMUL = 2886033408, 2885681152
-- N=10, in 512, out 256 at 4 bytes: activations 10*512*4 = 20,480; weights (512*256 + 256)*4
-- = 131,328*4 = 525,312; reads 545,792; writes 10*256*4 = 10,240; no temporaries, no state
local SEED_MEMORY = { reads = 545792, writes = 10240, intermediates = 0, weights = 525312, state = 0 }

describe("the original LM-Predictor's registry calls", function ()
  it("get_required_parameters gives type names, and the defaults of the parameters that may be left out", function ()
    local types, defaults = lmp.get_required_parameters(LINEAR)
    assert.are.same({ N = "int", in_features = "posint", out_features = "posint", bias = "bool",
                      w_bits = "posint", a_bits = "posint" }, types)
    -- torch.nn.Linear(in_features, out_features, bias=True); direct calls' bit widths are 16
    assert.are.same({ bias = true, w_bits = 16, a_bits = 16 }, defaults)
  end)

  it("compute_flops(Linear, N=32, in_features=4096, out_features=11008, dtype_bytes=4)", function ()
    local p = { N = 32, in_features = 4096, out_features = 11008, dtype_bytes = 4 }
    assert.are.equal(SEED_FLOPS, lmp.compute_flops(LINEAR, p))
    assert.are.equal(SEED_MATMUL, lmp.compute_matmul_flops(LINEAR, p))
    assert.are.same({ N = 32, in_features = 4096, out_features = 11008, dtype_bytes = 4 }, p) -- not changed
  end)

  it("compute_memory(Linear, N=10, in_features=512, out_features=256, dtype_bytes=4)", function ()
    assert.are.same(SEED_MEMORY,
      lmp.compute_memory(LINEAR, { N = 10, in_features = 512, out_features = 256, dtype_bytes = 4 }))
  end)

  it("give the same answers on the command line", function ()
    local out, err, code = h.run("module", "flops", LINEAR, "N=32", "in_features=4096", "out_features=11008", "dtype_bytes=4")
    assert.are.equal(0, code, err)
    assert.are.equal(("flops %d\nmatmul_flops %d\n"):format(SEED_FLOPS, SEED_MATMUL), out)
    out, err, code = h.run("module", "memory", LINEAR, "N=10", "in_features=512", "out_features=256", "dtype_bytes=4")
    assert.are.equal(0, code, err)
    assert.are.equal("reads 545792\nwrites 10240\nintermediates 0\n", out)
    -- weights 512*256 + 256 = 131,328
    out, err, code = h.run("module", "params", "torch.nn.Linear", "N=10", "in_features=512", "out_features=256", "dtype_bytes=4")
    assert.are.equal(0, code, err)
    assert.are.equal("params 131328\n", out)
  end)
end)

describe("dtype_bytes", function ()
  local base = { N = 10, in_features = 512, out_features = 256 }
  local function with(extra)
    local p = {}
    for k, v in pairs(base) do p[k] = v end
    for k, v in pairs(extra) do p[k] = v end
    return p
  end

  it("is w_bits = a_bits = 8 * dtype_bytes", function ()
    assert.are.same(lmp.compute_memory(LINEAR, with { w_bits = 32, a_bits = 32 }), lmp.compute_memory(LINEAR, with { dtype_bytes = 4 }))
    -- dtype_bytes = 1: reads 10*512 + 131,328 = 136,448 bytes, writes 2,560
    local m = lmp.compute_memory(LINEAR, with { dtype_bytes = 1 })
    assert.are.equal(136448, m.reads)
    assert.are.equal(2560, m.writes)
    -- and agreeing widths may be given beside it
    assert.are.same(SEED_MEMORY, lmp.compute_memory(LINEAR, with { dtype_bytes = 4, w_bits = 32, a_bits = 32 }))
  end)

  it("is an error beside a w_bits or a_bits that disagrees", function ()
    assert.error_matches(function () lmp.compute_flops(LINEAR, with { dtype_bytes = 4, w_bits = 16 }) end,
      "dtype_bytes = 4 means w_bits = 32, but w_bits = 16 was given", 1, true)
    assert.error_matches(function () lmp.compute_flops(LINEAR, with { dtype_bytes = 2, a_bits = 8 }) end,
      "dtype_bytes = 2 means a_bits = 16, but a_bits = 8 was given", 1, true)
    local _, err, code = h.run("module", "memory", LINEAR, "N=10", "in_features=512", "out_features=256", "dtype_bytes=4", "a_bits=16")
    assert.are.equal(2, code)
    assert.are.equal("lmp: dtype_bytes = 4 means a_bits = 32, but a_bits = 16 was given\n", err)
  end)

  it("is a whole number of bytes from 1 to 8", function ()
    for _, bad in ipairs({ 0, 9, 0.5, "4" }) do
      assert.error_matches(function () lmp.compute_flops(LINEAR, with { dtype_bytes = bad }) end,
        "dtype_bytes must be a whole number of bytes from 1 to 8, got " .. tostring(bad), 1, true)
    end
  end)

  it("sets kv_bits too unless kv_bits is given", function ()
    local SDPA = "torch.nn.functional.scaled_dot_product_attention"
    -- B 1, 2 heads, 2 KV heads, 3 queries over 5 keys, head_dim 4: Q and O 1*2*3*4 = 24 elements,
    -- K and V 1*2*5*4 = 40 each
    local p = { batch_size = 1, num_heads = 2, num_kv_heads = 2, q_len = 3, key_len = 5, head_dim = 4, masked = false }
    local function reads(extra)
      local q = {}
      for k, v in pairs(p) do q[k] = v end
      for k, v in pairs(extra) do q[k] = v end
      return lmp.compute_memory(SDPA, q).reads
    end
    -- dtype_bytes = 1: Q 24 B + K and V 80 B = 104 B
    assert.are.equal(104, reads { dtype_bytes = 1 })
    assert.are.equal(reads { a_bits = 8, kv_bits = 8 }, reads { dtype_bytes = 1 })
    -- kv_bits = 16 kept: Q 24 B + K and V 160 B = 184 B
    assert.are.equal(184, reads { dtype_bytes = 1, kv_bits = 16 })
  end)

  it("reaches a calculator that takes dtype_bytes itself unchanged", function ()
    lmp.register({
      full_class_name = "spec.seed.Bytes",
      required_parameters = function () return { numel = "int", dtype_bytes = "posint" } end,
      flops = function () return 0 end, matmul_flops = function () return 0 end, params = function () return 0 end,
      memory = function (q) return { reads = q.numel * q.dtype_bytes, writes = 0, intermediates = 0 } end,
    })
    assert.are.equal(30, lmp.compute_memory("spec.seed.Bytes", { numel = 10, dtype_bytes = 3 }).reads)
    lmp.registry.unregister("spec.seed.Bytes")
  end)
end)

describe("parameters with a PyTorch default", function ()
  it("may be left out: Linear's bias is True", function ()
    local p = { N = 10, in_features = 512, out_features = 256 }
    -- 2*10*512*256 = 2,621,440 + bias 10*256 = 2,560
    assert.are.equal(2624000, lmp.compute_flops(LINEAR, p))
    assert.are.equal(lmp.compute(LINEAR, { N = 10, in_features = 512, out_features = 256, bias = true }).flops,
      lmp.compute(LINEAR, p).flops)
  end)

  it("take True and False, Python's spelling, on the command line", function ()
    for _, spelling in ipairs({ "False", "false" }) do
      local out, err, code = h.run("module", "flops", "torch.nn.Linear", "N=10", "in_features=512", "out_features=256", "bias=" .. spelling)
      assert.are.equal(0, code, err)
      assert.are.equal("flops 2621440\nmatmul_flops 2621440\n", out)
    end
    local out, err, code = h.run("module", "flops", "torch.nn.Linear", "N=10", "in_features=512", "out_features=256", "bias=True")
    assert.are.equal(0, code, err)
    assert.are.equal("flops 2624000\nmatmul_flops 2621440\n", out)
  end)

  it("are shown by lmp module show", function ()
    local out, err, code = h.run("module", "show", "torch.nn.Linear")
    assert.are.equal(0, code, err)
    assert.matches("\n  bias +bool default true\n", out)
    assert.matches("\n  in_features +int >= 1\n", out)
  end)
end)

describe("public aliases", function ()
  it("resolve to the module's full path, as PyTorch exports it", function ()
    local cases = {
      ["torch.nn.Linear"] = LINEAR,
      ["torch.nn.modules.Linear"] = LINEAR,
      ["torch.nn.LayerNorm"] = "torch.nn.modules.normalization.LayerNorm",
      ["torch.nn.Conv2d"] = "torch.nn.modules.conv.Conv2d",
      ["torch.nn.Conv1d"] = "torch.nn.modules.conv.Conv1d",
      ["torch.nn.Embedding"] = "torch.nn.modules.sparse.Embedding",
      ["torch.nn.GELU"] = "torch.nn.modules.activation.GELU",
      ["torch.nn.Dropout"] = "torch.nn.modules.dropout.Dropout",
      ["torch.nn.RMSNorm"] = "torch.nn.modules.normalization.RMSNorm",
      ["transformers.Conv1D"] = "transformers.pytorch_utils.Conv1D",
      ["transformers.StaticCache"] = "transformers.cache_utils.StaticCache",
    }
    for alias, full in pairs(cases) do
      assert.are.equal(full, lmp.registry.get(alias).full_class_name, alias)
      assert.are.equal(full, lmp.registry.aliases()[alias], alias)
    end
    assert.are.equal(SEED_FLOPS, lmp.compute_flops("torch.nn.Linear", { N = 32, in_features = 4096, out_features = 11008, dtype_bytes = 4 }))
  end)

  it("are one table derived from the calculators' full names", function ()
    local aliases = lmp.registry.aliases()
    local n = 0
    for alias, full in pairs(aliases) do
      n = n + 1
      -- torch.nn[.modules].<Cls> for torch.nn.modules.<mod>.<Cls>
      assert.are.equal(full:match("[^.]+$"), alias:match("[^.]+$"))
      assert.are.equal(lmp.registry.key_of(full), lmp.registry.key_of(alias))
    end
    -- the bundled torch.nn.modules classes (Linear, Conv1d, Conv2d, LayerNorm, RMSNorm, Embedding,
    -- Dropout, GELU, ReLU, SiLU, Softmax, Tanh, and the activations Hardswish, LeakyReLU, PReLU, ReLU6,
    -- Sigmoid, at least) twice each, and transformers' Conv1D and StaticCache
    local torch_classes = 0
    for _, entry in ipairs(lmp.registry.list()) do
      if (entry.full_class_name or ""):match("^torch%.nn%.modules%.") and not entry.shadowed_by then torch_classes = torch_classes + 1 end
    end
    assert.is_true(torch_classes >= 13, torch_classes)
    assert.are.equal(2 * torch_classes + 2, n)
  end)

  it("work on the command line (exit 0) and in a model file", function ()
    local out, err, code = h.run("module", "show", "torch.nn.LayerNorm")
    assert.are.equal(0, code, err)
    assert.matches("^class       torch.nn.modules.normalization.LayerNorm\n", out)
    local path = h.model('[{"name": "fc", "class": "torch.nn.Linear", "parameters": {"N": "${seq_len}", "in_features": 4, "out_features": 3}}]')
    local r = lmp.analyze(path, { seq_len = 2 })
    os.remove(path)
    -- 2*2*4*3 = 48 + bias 2*3 = 6
    assert.is_true(r.complete)
    assert.are.equal(54, r.totals.flops)
  end)

  it("are only the names PyTorch exports: F.linear is not the Linear module", function ()
    -- torch.nn.functional.linear(input, weight, bias=None) has no bias by default; it is no alias
    assert.error_matches(function () lmp.registry.get("torch.nn.functional.linear") end,
      "is the calculator for torch.nn.modules.linear.Linear, not torch.nn.functional.linear", 1, true)
    assert.error_matches(function () lmp.registry.get("torch.nn.Mystery") end, "no calculator for torch.nn.Mystery", 1, true)
  end)
end)

describe("mistakes a migrating user makes", function ()
  it("a positional call is an error naming the function and what to pass", function ()
    local err = tostring(h.error_of(lmp.compute_flops, LINEAR, 32, 4096, 11008))
    assert.are.equal('lmp.compute_flops: parameters go in one table of name = value, not positional values: ' ..
      'lmp.compute_flops("torch.nn.modules.linear.Linear", { N = ..., in_features = ..., out_features = ... })', err)
    err = tostring(h.error_of(lmp.compute_memory, LINEAR, { 10, 512, 256 }))
    assert.matches("^lmp.compute_memory: parameters go in one table", err)
    err = tostring(h.error_of(lmp.compute_flops, { N = 32 }))
    assert.are.equal("lmp.compute_flops: expected a class name first, got a table", err)
    -- in a script: one line, no traceback, exit 2
    local path = h.write("lmp.compute_flops('torch.nn.Linear', 32, 4096, 11008)\n", ".lua")
    local _, serr, code = h.run(path)
    os.remove(path)
    assert.are.equal(2, code)
    assert.matches("^lmp: lmp.compute_flops: parameters go in one table[^\n]*\n$", serr)
  end)

  it("an unknown parameter name suggests the nearest valid ones, in Lua and on the CLI", function ()
    assert.error_matches(function ()
      lmp.compute_flops(LINEAR, { N = 32, in_feature = 4096, out_features = 11008 })
    end, "parameter 'in_feature' is not one .-torch_linear.lua takes; did you mean 'in_features'%?$")
    -- two at the same distance: both
    assert.error_matches(function ()
      lmp.compute_flops("torch.nn.Conv2d", { batch_size = 1, in_channels = 3, out_channels = 8, kernel_h = 3,
                                              kernel_w = 3, height = 8, width = 8, stride = 2 })
    end, "did you mean 'stride_h', 'stride_w'?", 1, true)
    -- nothing close: every name it takes
    assert.error_matches(function ()
      lmp.compute_flops(LINEAR, { N = 32, in_features = 4096, out_features = 11008, temperature = 1 })
    end, "(it takes 'N', 'a_bits', 'bias', 'in_features', 'out_features', 'w_bits')", 1, true)
    local _, err, code = h.run("module", "flops", "torch.nn.Linear", "N=32", "in_feature=4096", "out_features=11008")
    assert.are.equal(2, code)
    assert.matches("^lmp: parameter 'in_feature' is not one .-takes; did you mean 'in_features'%?\n$", err)
  end)

  it("positional values on the CLI say what to type", function ()
    local _, err, code = h.run("module", "flops", "torch.nn.Linear", "32", "4096", "11008")
    assert.are.equal(2, code)
    assert.are.equal("lmp: expected name=value, got '32' (lmp module show CLASS lists the names)\n", err)
  end)
end)

-- The "Migrating from LM-Predictor" sections show these commands with what they print; a
-- "..." line stands for any lines, a command shown without output need only succeed.
describe("the migration guides", function ()
  local function section(path)
    local text = lmp.core.read_file(path)
    local at = assert(text:find("\n## Migrating from LM%-Predictor\n"), path .. " has no migration section")
    return text:sub(at):match("^\n[^\n]*\n(.-)\n## ") or text:sub(at)
  end

  for _, path in ipairs({ "README.md", "docs/lua-api.md" }) do
    it(path .. " shows what the commands print", function ()
      local lines, n = {}, 0
      for line in section(path):gmatch("[^\n]*") do lines[#lines + 1] = line end
      for i, line in ipairs(lines) do
        local cmd = line:match("^%$ lmp (.-)%s*$")
        if cmd then
          n = n + 1
          cmd = cmd:gsub("%s+#.*$", "")
          local args = {}
          for word in cmd:gmatch("%S+") do args[#args + 1] = word end
          local out, err, code = h.run(table.unpack(args))
          assert.are.equal(0, code, cmd .. ": " .. err)
          local got = {}
          for l in out:gmatch("([^\n]*)\n") do got[#got + 1] = l end
          local k, skip, shown = 1, false, 0
          for j = i + 1, #lines do
            local want = lines[j]
            if want:match("^%$ ") or want:match("^```") then break end
            shown = shown + 1
            if want == "..." then
              skip = true
            else
              while skip and got[k] and got[k] ~= want do k = k + 1 end
              assert.are.equal(want, got[k], cmd)
              k, skip = k + 1, false
            end
          end
          if shown > 0 and not skip then assert.are.equal(#got + 1, k, cmd .. ": more output than shown") end
        end
      end
      assert.is_true(n >= 3, n)
    end)
  end
end)
