-- lmp calibrate recovers known efficiencies from times made by the documented formula, reads
-- its CSV strictly, and docs/validation.md is current with bench/data (bench/validate.lua).
local lmp = require "lmp"
local h = require "spec.helpers"

-- times of Linear kernels on an A100 80GB made by hand with gemm_compute 0.6, gemm_memory
-- 0.7, sharpness 4 and a 3 us floor: tc = 2*N*K*M / (312e12 * 0.6), tm = bytes / (2039e9 * 0.7)
local function synthetic_csv()
  local lines = { "class,parameters,measured_us,label" }
  for _, n in ipairs({ 1, 16, 64, 256, 1024, 4096 }) do
    for _, shape in ipairs({ { 4096, 4096 }, { 4096, 22016 }, { 11008, 4096 }, { 8192, 1280 } }) do
      local k, m = shape[1], shape[2]
      local flops = 2 * n * k * m
      local bytes = 2 * (k * m + n * k + n * m) -- bf16 weights, input and output
      local tc, tm = flops / (312e12 * 0.6), bytes / (2039e9 * 0.7)
      local t = (tc ^ 4 + tm ^ 4) ^ 0.25 + 3e-6
      lines[#lines + 1] = ("torch.nn.modules.linear.Linear,in_features=%d;out_features=%d;bias=false;N=%d,%.6f,n=%d"):format(
        k, m, n, t * 1e6, n)
    end
  end
  return table.concat(lines, "\n") .. "\n"
end

describe("lmp calibrate", function ()
  it("recovers the efficiencies the measurements were made with", function ()
    local csv = h.write(synthetic_csv(), ".csv")
    local out_file = os.tmpname() .. ".json"
    local out, err, code = h.run("calibrate", "--hw", "a100-sxm-80gb", csv, "--out", out_file, "--name", "a100-mine")
    assert.are.equal(0, code, err)
    assert.truthy(out:find("leave-one-out error", 1, true), out)
    local hw = lmp.hardware(out_file)
    assert.are.equal("a100-mine", hw.name)
    local function near(want, got, tol, what)
      assert(math.abs(got - want) <= tol * want, ("%s: want %g, got %g"):format(what, want, got))
    end
    near(0.6, hw.efficiency.gemm_compute, 0.01, "gemm_compute")
    near(0.7, hw.efficiency.gemm_memory, 0.01, "gemm_memory")
    near(3, hw.kernel_floor_us, 0.02, "kernel floor")
    assert(hw.calibration.worst_error < 0.01, "worst error after the fit " .. hw.calibration.worst_error)
    assert(hw.calibration.leave_one_out_worst_error < 0.02, "leave-one-out " .. hw.calibration.leave_one_out_worst_error)
    assert.are.equal(24, hw.calibration.measurements)
    -- the calibrated file drives analyze
    out, err, code = h.run("analyze", "models/gpt2.json", "--hw", out_file, "--depth", "0")
    assert.are.equal(0, code, err)
    assert.truthy(out:find("time on a100-mine", 1, true), out)
    os.remove(csv)
    os.remove(out_file)
  end)

  it("refuses a bad measurement with one line naming the file and line", function ()
    local cases = {
      { "class,parameters,measured_us\ntorch.add,numel=4,-3\n", ":2: measured_us must be a positive number" },
      { "class,parameters\n", ":1: the header must name the columns class, parameters and measured_us" },
      { "class,parameters,measured_us\ntorch.add,numel,3\n", ":2: parameters: 'numel' is not name=value" },
      { "class,parameters,measured_us\ntorch.nope,numel=4,3\n", ":2: torch.nope" },
      { "class,parameters,measured_us\n", ": no measurements" },
    }
    for _, c in ipairs(cases) do
      local path = h.write(c[1], ".csv")
      local _, err, code = h.run("calibrate", "--hw", "h100-sxm", path)
      assert.are.equal(2, code, err)
      assert.are.equal(1, select(2, err:gsub("\n", "")), err)
      assert.truthy(err:find(path .. c[2], 1, true), err)
      os.remove(path)
    end
  end)
end)

describe("docs/validation.md", function ()
  it("is current with bench/data/vidur (bench/validate.lua --check)", function ()
    -- a child process: under valgrind it runs natively (scripts/valgrind-specs skips sh)
    local out, err, code = h.sh(h.quote(h.exe) .. " bench/validate.lua --check")
    assert.are.equal(0, code, out .. err)
  end)
end)

describe("lmp calibrate on a torch profiler trace", function ()
  it("reads each op's shapes and its kernels' GPU time by External id, the median over calls", function ()
    local rows = require("lmp.calibrate").read_trace("spec/fixtures/traces/kineto_small.json")
    -- addmm x2 (kernels 12.5 + 0.5 and 13.5: median 13.25 us), mul (3 us), add of a scalar (2 us);
    -- aten::linear is not read (its addmm is), the mm launched no kernel
    assert.are.equal(3, #rows)
    assert.are.equal("torch.nn.modules.linear.Linear", rows[1].class)
    assert.are.same({ N = 64, in_features = 256, out_features = 512, bias = true, a_bits = 32, w_bits = 32 }, rows[1].parameters)
    assert(math.abs(rows[1].measured_s - 13.25e-6) < 1e-15, rows[1].measured_s)
    assert.truthy(rows[1].label:find("(2 calls)", 1, true), rows[1].label)
    assert.are.equal("torch.mul", rows[2].class)
    assert.are.same({ numel = 32768, a_bits = 16 }, rows[2].parameters)
    assert(math.abs(rows[2].measured_s - 3e-6) < 1e-15)
    assert.are.equal("torch.add", rows[3].class)
    assert.are.same({ numel = 32768, broadcast_numel = 1, a_bits = 16 }, rows[3].parameters)
    local out, err, code = h.run("calibrate", "--hw", "a100-sxm-80gb", "spec/fixtures/traces/kineto_small.json")
    assert.are.equal(0, code, err)
    assert.truthy(out:find("3 measurements on a100-sxm-80gb", 1, true), out)
  end)

  it("says what to do with a trace that has no shapes", function ()
    local path = h.write('[{"name": "aten::mm", "ph": "X", "ts": 1, "dur": 5, "tid": 1, "pid": "CPU functions", "args": {}}]')
    local _, err, code = h.run("calibrate", "--hw", "h100-sxm", path)
    assert.are.equal(2, code)
    assert.truthy(err:find("no operator has input shapes: profile with record_shapes=True", 1, true), err)
  end)
end)

describe("lmp calibrate --per-class", function ()
  it("recovers two elementwise classes' own memory efficiencies", function ()
    -- torch.add reaches 0.9 of the A100's 2039 GB/s, torch.mul 0.5; 2 us floor, sharpness 4
    -- (the compute roofs are far below: elementwise_compute 0.5 of 78 TFLOP/s)
    local lines = { "class,parameters,measured_us" }
    for _, n in ipairs({ 1 << 16, 1 << 18, 1 << 20, 1 << 22, 1 << 23, 1 << 24, 1 << 25, 1 << 26 }) do
      local bytes = 3 * n * 2 -- two operands read, one written, bf16
      for class, e in pairs({ ["torch.add"] = 0.9, ["torch.mul"] = 0.5 }) do
        local tc, tm = n / (78e12 * 0.5), bytes / (2039e9 * e)
        lines[#lines + 1] = ("%s,numel=%d,%.6f"):format(class, n, ((tc ^ 4 + tm ^ 4) ^ 0.25 + 2e-6) * 1e6)
      end
    end
    local csv = h.write(table.concat(lines, "\n") .. "\n", ".csv")
    local out_file = os.tmpname() .. ".json"
    local out, err, code = h.run("calibrate", "--hw", "a100-sxm-80gb", csv, "--per-class", "--no-loo", "--out", out_file)
    assert.are.equal(0, code, err)
    local hw = lmp.hardware(out_file)
    assert(math.abs(hw.efficiency.classes["torch.add"].memory - 0.9) < 0.01, out)
    assert(math.abs(hw.efficiency.classes["torch.mul"].memory - 0.5) < 0.01, out)
    assert(hw.calibration.worst_error < 0.01, out)
    os.remove(csv)
    os.remove(out_file)
  end)
end)
