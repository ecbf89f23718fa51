-- The hardware model: presets, checked files, per-layer times derived by hand from the
-- datasheet figures and the documented defaults (docs/hardware.md), the phase totals and
-- the fit verdict. Expected values are computed here from the formulas, not read from lmp.
local lmp = require "lmp"
local h = require "spec.helpers"

local PRESETS = { "a100-sxm-40gb", "a100-sxm-80gb", "a100-pcie-40gb", "a100-pcie-80gb", "h100-sxm", "h100-pcie", "h200",
                  "h20", "b200", "gb200", "l40s", "l4", "rtx-4090", "mi300x", "mi325x", "tpu-v5e", "gaudi3",
                  "apple-m2-ultra" }

-- a model of one Linear layer (no bias) over N tokens: N = batch_size * seq_len
local function linear_model(inf, outf)
  return lmp.load_model_string(([[{"model_id": "one-linear", "layers": [
    {"name": "proj", "class": "torch.nn.modules.linear.Linear",
     "parameters": {"in_features": %d, "out_features": %d, "bias": false, "N": "${batch_size} * ${seq_len}"}}]}]])
    :format(inf, outf), "one-linear.json")
end

-- the documented time of one kernel: (tc^p + tm^p)^(1/p) + floor
local function expected(tc, tm, p, floor_s)
  return (tc ^ p + tm ^ p) ^ (1 / p) + floor_s
end

local function close(want, got, what)
  assert(math.abs(got - want) <= 1e-9 * math.abs(want), ("%s: want %.12g, got %.12g"):format(what or "time", want, got))
end

describe("hardware presets", function ()
  it("bundles at least 15, each loading with a source for every figure", function ()
    local listed = {}
    for _, e in ipairs(lmp.hardware_list()) do listed[e.name] = e end
    for _, name in ipairs(PRESETS) do
      local hw = lmp.hardware(name)
      assert.are.equal(name, hw.name)
      assert.is_truthy(listed[name], name)
      for _, f in ipairs(require("lmp.hardware").FIELDS) do
        if hw[f[1]] ~= nil then assert.is_string(hw.sources[f[1]], name .. " " .. f[1]) end
      end
    end
    assert.is_true(#PRESETS >= 15)
  end)

  it("holds the datasheets' figures (spot checks)", function ()
    local a = lmp.hardware("a100-sxm-80gb")
    assert.are.equal(2039, a.memory_GBps)
    assert.are.equal(312, a.tensor_TFLOPS.bf16)
    assert.are.equal(80, a.memory_GiB)
    local hh = lmp.hardware("h100-sxm")
    assert.are.equal(3350, hh.memory_GBps)
    assert.are.equal(989.4, hh.tensor_TFLOPS.bf16) -- the datasheet's 1,979 with sparsity, halved
    assert.are.equal(1978.9, hh.tensor_TFLOPS.fp8)
    assert.are.equal(5300, lmp.hardware("mi300x").memory_GBps)
    assert.are.equal(197, lmp.hardware("tpu-v5e").tensor_TFLOPS.bf16)
  end)

  it("refuses a bad file with one line naming the file and the field", function ()
    local base = { name = "mine", memory_GiB = 8, memory_GBps = 100, tensor_TFLOPS = { bf16 = 10 }, kernel_floor_us = 1,
                   sources = { memory_GiB = "x", memory_GBps = "x", tensor_TFLOPS = "x", kernel_floor_us = "x" } }
    local function with(change)
      local t = require("lmp.json").encode(base)
      local v = lmp.json_decode(t)
      change(v)
      return h.write(require("lmp.json").encode(v))
    end
    local cases = {
      { function (v) v.memory_GBps = -1 end, "memory_GBps must be a positive number" },
      { function (v) v.memory_GiB = nil end, "memory_GiB is missing" },
      { function (v) v.sources.memory_GBps = nil end, "sources.memory_GBps is missing" },
      { function (v) v.tensor_TFLOPS = { bf17 = 3 } end, "tensor_TFLOPS.bf17 is not a compute type" },
      { function (v) v.bandwidth = 3 end, "bandwidth is not a field" },
      { function (v) v.efficiency = { gemm_compute = 1.5 } end, "efficiency.gemm_compute must be a number in (0, 1]" },
      { function (v) v.efficiency = { speed = 1 } end, "efficiency.speed is not an efficiency" },
      { function (v) v.efficiency = { classes = { ["torch.add"] = { speed = 1 } } } end,
        "efficiency.classes.torch.add.speed is not compute or memory" },
      { function (v) v.efficiency = { classes = { ["torch.add"] = { memory = 2 } } } end,
        "efficiency.classes.torch.add.memory must be a number in (0, 1]" },
    }
    for _, c in ipairs(cases) do
      local path = with(c[1])
      local out, err, code = h.run("hw", "show", path)
      assert.are.equal(2, code, out .. err)
      assert.are.equal(1, select(2, err:gsub("\n", "")), err)
      assert.truthy(err:find(path, 1, true), err)
      assert.truthy(err:find(c[2], 1, true), err)
      os.remove(path)
    end
    local _, err, code = h.run("analyze", "models/gpt2.json", "--hw", "h900")
    assert.are.equal(2, code)
    assert.truthy(err:find("hardware 'h900' is not a preset", 1, true), err)
  end)

  it("finds a user's file by name in the user's hardware folder", function ()
    local dir = os.tmpname()
    os.remove(dir)
    assert(os.execute("mkdir -p " .. dir .. "/lmp/hardware"))
    local f = io.open(dir .. "/lmp/hardware/my-gpu.json", "w")
    f:write([[{"name": "my-gpu", "memory_GiB": 8, "memory_GBps": 100, "tensor_TFLOPS": {"bf16": 10},
      "kernel_floor_us": 1, "sources": {"memory_GiB": "mine", "memory_GBps": "mine", "tensor_TFLOPS": "mine",
      "kernel_floor_us": "mine"}}]])
    f:close()
    local out, err, code = h.run_env({ XDG_DATA_HOME = dir }, "hw", "list")
    assert.are.equal(0, code, err)
    assert.truthy(out:find("my-gpu", 1, true))
    out, err, code = h.run_env({ XDG_DATA_HOME = dir }, "analyze", "models/gpt2.json", "--hw", "my-gpu", "--depth", "0")
    assert.are.equal(0, code, err)
    assert.truthy(out:find("time on my-gpu", 1, true))
    os.execute("rm -rf " .. dir)
  end)
end)

describe("the time of one layer", function ()
  -- Linear 4096 -> 4096, bf16, one token: memory-bound. FLOPs 2*4096*4096; bytes: the
  -- weights 4096*4096*2 + the input 4096*2 + the output 4096*2
  local mem_flops, mem_bytes = 2 * 4096 * 4096, 4096 * 4096 * 2 + 4096 * 2 + 4096 * 2
  -- Linear 4096 -> 11008 over 4096 tokens: compute-bound. FLOPs 2*4096*4096*11008; bytes:
  -- weights 4096*11008*2, input 4096*4096*2, output 4096*11008*2
  local cmp_flops = 2 * 4096 * 4096 * 11008
  local cmp_bytes = 4096 * 11008 * 2 + 4096 * 4096 * 2 + 4096 * 11008 * 2

  -- defaults (docs/hardware.md): gemm_compute 0.75, gemm_memory 0.85, sharpness 4, floor 2 us
  local cases = {
    { "a100-sxm-80gb", 312e12, 2039e9 },
    { "h100-sxm", 989.4e12, 3350e9 },
  }
  for _, c in ipairs(cases) do
    local name, peak, bw = c[1], c[2], c[3]
    it("on " .. name .. ": a memory-bound GEMV and a compute-bound GEMM", function ()
      local r = lmp.analyze(linear_model(4096, 4096), { batch_size = 1, seq_len = 1 }, { hw = name })
      local t = r.tree[1].time[name]
      local tc, tm = mem_flops / (peak * 0.75), mem_bytes / (bw * 0.85)
      assert.are.equal("memory", t.bound)
      close(expected(tc, tm, 4, 2e-6), t.seconds)
      close(mem_flops / mem_bytes, t.intensity, "intensity")
      close(expected(tc, tm, 4, 2e-6), r.timing[1].ttft_s)

      r = lmp.analyze(linear_model(4096, 11008), { batch_size = 1, seq_len = 4096 }, { hw = name })
      t = r.tree[1].time[name]
      tc, tm = cmp_flops / (peak * 0.75), cmp_bytes / (bw * 0.85)
      assert.are.equal("compute", t.bound)
      close(expected(tc, tm, 4, 2e-6), t.seconds)
      -- MFU: the layer's FLOPs over the time and the bf16 peak
      close(cmp_flops / (t.seconds * peak), r.timing[1].mfu, "mfu")
      close(4096 / t.seconds, r.timing[1].tokens_per_s, "tokens/s")
    end)
  end

  it("is the plain roofline with efficiencies of 1, a large sharpness and no floor", function ()
    local hw = { name = "plain", memory_GiB = 80, memory_GBps = 2000, tensor_TFLOPS = { bf16 = 300 },
                 kernel_floor_us = 1e-9, efficiency = { gemm_compute = 1, gemm_memory = 1, sharpness = 64 },
                 sources = { memory_GiB = "-", memory_GBps = "-", tensor_TFLOPS = "-", kernel_floor_us = "-" } }
    local r = lmp.analyze(linear_model(4096, 11008), { batch_size = 1, seq_len = 4096 }, { hw = hw })
    local t = r.tree[1].time.plain
    -- max(tc, tm) within (1 + (tm/tc)^64)^(1/64) - 1 < 1e-60
    close(cmp_flops / 300e12 + 1e-15, t.seconds)
  end)

  it("prices fp8 GEMMs at the fp8 peak, weight-only int4 at the bf16 one, fp32 on the vector units", function ()
    local m = linear_model(4096, 11008)
    local function compute_s(inputs, hw)
      inputs.batch_size, inputs.seq_len = 1, 4096
      local r = lmp.analyze(m, inputs, { hw = hw })
      return r.tree[1].time[hw].compute_s, r.tree[1].time[hw].dtype
    end
    local tc, d = compute_s({ w_bits = 8, a_bits = 8 }, "h100-sxm")
    assert.are.equal("fp8", d)
    close(cmp_flops / (1978.9e12 * 0.75), tc)
    tc, d = compute_s({ w_bits = 4, a_bits = 16 }, "h100-sxm")
    assert.are.equal("bf16", d)
    close(cmp_flops / (989.4e12 * 0.75), tc)
    tc, d = compute_s({ w_bits = 32, a_bits = 32 }, "a100-sxm-80gb")
    assert.are.equal("fp32", d)
    close(cmp_flops / (19.5e12 * 0.75), tc)
    -- the A100 has no fp8: an fp8 GEMM runs at int8's rate (the next of the same width)
    tc, d = compute_s({ w_bits = 8, a_bits = 8 }, "a100-sxm-80gb")
    assert.are.equal("int8", d)
    close(cmp_flops / (624e12 * 0.75), tc)
  end)
end)

describe("the totals of a timed run", function ()
  local model = "models/llama-2-7b-hf.json"

  it("sums the layers' times, and each composite's row holds its own", function ()
    local r = lmp.analyze(model, { seq_len = 1, kv_len = 100, phase = "decode" }, { hw = "h100-sxm" })
    local sum = 0
    for _, n in ipairs(r:basic_layers()) do sum = sum + n.time["h100-sxm"].total_seconds end
    close(sum, r.timing[1].tpot_s)
    -- the decoder layer row (x32) is 32 times the time of one instance's layers
    local layers = r:find("^model%.layers$")[1]
    local one = 0
    for _, kid in ipairs(layers.children) do one = one + kid.time["h100-sxm"].seconds end
    close(32 * one, layers.time["h100-sxm"].seconds)
  end)

  it("gives generate's time to first token and the decode steps' mean", function ()
    local opts = { hw = "a100-sxm-80gb" }
    local g = lmp.generate(model, { prompt_len = 64, new_tokens = 5 }, opts)
    local pre = lmp.analyze(model, { seq_len = 64, logits_len = 1 }, opts)
    local decode = 0
    for kv = 64, 67 do
      decode = decode + lmp.analyze(model, { seq_len = 1, kv_len = kv, phase = "decode" }, opts).timing[1].tpot_s
    end
    close(pre.timing[1].ttft_s, g.timing[1].ttft_s)
    close(decode / 4, g.timing[1].tpot_s)
    close(pre.timing[1].ttft_s + decode, g.timing[1].seconds)
    close(5 / g.timing[1].seconds, g.timing[1].tokens_per_s)
  end)

  it("interpolates a long generate between 9 timed steps, within 0.1% of timing each", function ()
    local opts = { hw = "h100-sxm" }
    local g = lmp.generate(model, { prompt_len = 16, new_tokens = 200 }, opts)
    assert.are.equal(9, g.timing[1].decode_steps_timed)
    local decode = 0
    for kv = 16, 16 + 198 do
      decode = decode + lmp.analyze(model, { seq_len = 1, kv_len = kv, phase = "decode" }, { hw = "h100-sxm", depth = 0 })
        .timing[1].tpot_s
    end
    assert(math.abs(g.timing[1].decode_s - decode) / decode < 1e-3, ("%g vs %g"):format(g.timing[1].decode_s, decode))
  end)

  it("says whether the footprint fits in N devices, 10% kept for the runtime", function ()
    -- decode over 2048 cached tokens: weights 6,738,415,616 params x 2 bytes, and K and V of
    -- 2049 tokens x 32 layers x 4096 x 2 bytes, and the largest layer's working set
    local r = lmp.analyze(model, { seq_len = 1, kv_len = 2048, phase = "decode" }, { hw = { "l4", "rtx-4090" }, gpus = 1 })
    local need = r.footprint.total
    assert.are.equal(6738415616 * 2 + 2 * 2049 * 32 * 4096 * 2 + r.footprint.peak_activation, need)
    local usable = (24 * 2 ^ 30) * 9 // 10 -- both are 24 GiB parts
    for k = 1, 2 do
      local f = r.timing[k].fit
      assert.are.equal(usable, f.usable_bytes)
      assert.is_true(f.fits)
      assert.are.equal(usable - need, f.margin_bytes)
    end
    -- batch 16 of 4k contexts: the cache alone is 16 x 4097 x 32 x 4096 x 2 x 2 bytes = 32.0 GiB
    r = lmp.analyze(model, { batch_size = 16, seq_len = 1, kv_len = 4096, phase = "decode" }, { hw = "l4", gpus = 2 })
    local f = r.timing[1].fit
    assert.are.equal(16 * 4097 * 32 * 4096 * 2 * 2, r.footprint.kv_cache)
    assert.are.equal(2 * (24 * 2 ^ 30) * 9 // 10, f.usable_bytes)
    assert.is_false(f.fits)
    local out, err, code = h.run("analyze", model, "--phase", "decode", "--kv-len", "4096", "--batch", "16",
      "--hw", "l4", "--gpus", "2", "--depth", "0")
    assert.are.equal(0, code, err)
    assert.truthy(out:find("fits on 2?             NO", 1, true), out)
  end)

  it("carries the times in JSON, CSV and markdown", function ()
    local out, err, code = h.run("analyze", model, "--hw", "h100-sxm", "--hw", "mi300x", "--format", "json", "--depth", "1")
    assert.are.equal(0, code, err)
    local j = lmp.json_decode(out)
    assert.are.equal("h100-sxm", j.timing[1].hardware)
    assert.are.equal("mi300x", j.timing[2].hardware)
    assert.is_number(j.timing[1].ttft_s)
    assert.is_number(j.tree[2].time.mi300x.seconds)
    out = h.run("analyze", model, "--hw", "h100-sxm", "--format", "csv", "--depth", "1")
    local header = out:match("^[^\n]+")
    local tail = ",flop_per_byte,h100-sxm_seconds,h100-sxm_total_seconds,h100-sxm_bound"
    assert.are.equal(tail, header:sub(-#tail))
    out = h.run("analyze", model, "--hw", "h100-sxm", "--format", "markdown", "--depth", "1")
    assert.truthy(out:find("| h100-sxm |", 1, true))
    assert.truthy(out:find("- time to first token", 1, true))
  end)

  it("refuses --gpus without --hw", function ()
    local _, err, code = h.run("analyze", model, "--gpus", "2")
    assert.are.equal(2, code)
    assert.truthy(err:find("--gpus N goes with --hw", 1, true), err)
  end)
end)
