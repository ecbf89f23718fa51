-- --format csv sums correctly: over the basic rows, each *_total column is the model's
-- total (Python's csv module and pandas, as docs/csv.md says), with MoE `active` and tied
-- weights; the figures per instance times the instance counts give the totals.
local h = require "spec.helpers"

-- Debian's python3 first: python3-pandas is installed for it, not for a python3 earlier on PATH
local PYTHON = os.execute("test -x /usr/bin/python3") and "/usr/bin/python3" or "python3"
local has_python = os.execute("command -v " .. PYTHON .. " >/dev/null 2>&1")

local function analyze(...)
  local out, err, code = h.run("analyze", ...)
  assert.are.equal(0, code, err)
  return out
end

-- analyze(args..., "--format", fmt)
local function analyze_as(args, fmt)
  local all = { table.unpack(args) }
  all[#all + 1], all[#all + 2] = "--format", fmt
  return analyze(table.unpack(all))
end

-- { csv = {figure = sum}, depth0 = ..., pandas = ... , dtype = {column = dtype} } from
-- spec/report/csv_sums.py, and its pandas-missing reason
local function python_sums(csv_text)
  local path = h.write(csv_text, ".csv")
  local p = io.popen(PYTHON .. " spec/report/csv_sums.py " .. path .. " 2>&1")
  local out = p:read("a")
  local ok = p:close()
  os.remove(path)
  assert.is_truthy(ok, out)
  local sums, missing = { csv = {}, depth0 = {}, peak = {}, pandas = {}, dtype = {} }, nil
  for line in out:gmatch("[^\n]+") do
    local how, what, value = line:match("^(%S+) (%S+) (.*)$")
    if how == "pandas-missing" then missing = what .. " " .. value
    else
      assert.is_truthy(sums[how], line)
      sums[how][what] = math.tointeger(tonumber(value)) or value
    end
  end
  return sums, missing
end

-- rows of the CSV as tables keyed by the header (no quoted commas in these models)
local function rows(csv_text)
  local lines = {}
  for line in csv_text:gmatch("[^\n]+") do lines[#lines + 1] = line end
  local header, out = {}, {}
  for c in lines[1]:gmatch("[^,]+") do header[#header + 1] = c end
  for i = 2, #lines do
    local row, k = {}, 0
    for c in (lines[i] .. ","):gmatch("([^,]*),") do
      k = k + 1
      row[header[k]] = math.tointeger(tonumber(c)) or c
    end
    out[#out + 1] = row
  end
  return out, header
end

local function by_path(list, path)
  for _, r in ipairs(list) do if r.path == path then return r end end
end

local CASES = {
  { "Llama-2-7B prefill", { "--model-json", "models/llama-2-7b-hf.json" } },
  { "Mixtral decode, batch 1 (2 of 8 experts' weights read)",
    { "--model-json", "models/mixtral-8x7b-v0.1.json", "--phase", "decode", "--kv-len", "511" } },
  { "Mixtral prefill of 16 tokens", { "--model-json", "models/mixtral-8x7b-v0.1.json", "--seq", "16" } },
  { "GPT-2 training (tied lm_head)", { "--model-json", "models/gpt2.json", "--phase", "train", "--seq", "128" } },
}

describe("--format csv", function ()
  it("gives every row its path, depth, basic, repeat, instances and the run's inputs", function ()
    local list, header = rows(analyze("--model-json", "models/mixtral-8x7b-v0.1.json", "--seq", "16",
      "--batch", "2", "--format", "csv"))
    for _, col in ipairs({ "path", "depth", "basic", "repeat", "active", "instances", "active_instances",
                           "flops", "flops_total", "params_total", "phase", "batch_size", "seq_len",
                           "kv_len", "w_bits", "a_bits", "kv_bits" }) do
      assert.is_truthy(table.concat(header, ","):find("%f[%w_]" .. col .. "%f[^%w_]"), col)
    end
    local w1 = by_path(list, "model.layers.block_sparse_moe.experts.w1")
    -- 32 decoder layers x 8 experts, of which 2 run: 256 instances, 64 that compute
    assert.are.same({ 4, "true", 1, 1, 256, 64 },
      { w1.depth, w1.basic, w1["repeat"], w1.active, w1.instances, w1.active_instances })
    local experts = by_path(list, "model.layers.block_sparse_moe.experts")
    assert.are.same({ "false", 8, 2, 256, 64 },
      { experts.basic, experts["repeat"], experts.active, experts.instances, experts.active_instances })
    -- one expert's w1 (4096 -> 14336, no bias) over 2 x 16 tokens: 2*32*4096*14336 FLOPs
    assert.are.equal(2 * 32 * 4096 * 14336, w1.flops)
    assert.are.equal(2 * 32 * 4096 * 14336 * 64, w1.flops_total)
    assert.are.equal(4096 * 14336, w1.params)
    assert.are.equal(4096 * 14336 * 256, w1.params_total)
    assert.are.same({ "prefill", 2, 16, 0, 16, 16, 16 },
      { w1.phase, w1.batch_size, w1.seq_len, w1.kv_len, w1.w_bits, w1.a_bits, w1.kv_bits })
    assert.are.equal("mistralai/Mixtral-8x7B-v0.1", w1.model_id)
  end)

  it("counts the weights a decode step reads: 2 experts of 8 for one token", function ()
    local list = rows(analyze("--model-json", "models/mixtral-8x7b-v0.1.json", "--phase", "decode",
      "--kv-len", "511", "--format", "csv"))
    local w1 = by_path(list, "model.layers.block_sparse_moe.experts.w1")
    assert.are.same({ 256, 64, 64 }, { w1.instances, w1.active_instances, w1.weight_instances })
    assert.are.equal(4096 * 14336 * 2, w1.weight_bytes) -- bf16
    assert.are.equal(4096 * 14336 * 2 * 64, w1.weight_bytes_total)
    assert.are.equal(4096 * 14336 * 256, w1.params_total)
  end)

  it("with --phase generate, has the prefill's rows, which sum to steps.prefill", function ()
    local args = { "--model-json", "models/gpt2.json", "--phase", "generate", "--seq", "16", "--new-tokens", "4" }
    local list = rows(analyze_as(args, "csv"))
    local prefill = lmp.json_decode(analyze_as(args, "json")).steps.prefill
    local sum = 0
    for _, r in ipairs(list) do
      assert.are.same({ "prefill", 16, 0 }, { r.phase, r.seq_len, r.kv_len })
      if r.basic == "true" then sum = sum + r.flops_total end
    end
    assert.are.equal(prefill.flops, sum)
  end)

  it("writes exact integers, never a float", function ()
    local text = analyze("--model-json", "models/llama-2-70b-hf.json", "--seq", "32768", "--format", "csv")
    assert.is_nil(text:find("%d[eE][+-]?%d"))
    assert.is_nil(text:find("%d%.%d"))
  end)

  it("shows a tied layer with no parameters of its own, so params_total sums right", function ()
    local list = rows(analyze("--model-json", "models/gpt2.json", "--seq", "8", "--format", "csv"))
    local head = by_path(list, "lm_head")
    assert.are.same({ "transformer.wte", 0, 0 }, { head.weights_tied_to, head.params, head.params_total })
    assert.is_true(head.weight_bytes_total > 0) -- it still reads the tied weights
    local sum = 0
    for _, r in ipairs(list) do if r.basic == "true" then sum = sum + r.params_total end end
    assert.are.equal(124439808, sum) -- GPT-2's published parameter count
  end)

  if not has_python then
    pending("python3 is not installed: the csv-module and pandas checks need it")
    return
  end

  for _, case in ipairs(CASES) do
    it("sums to the JSON totals over the basic rows with Python's csv module: " .. case[1], function ()
      local args = case[2]
      local totals = lmp.json_decode(analyze_as(args, "json")).totals
      local sums = python_sums(analyze_as(args, "csv"))
      local n = 0
      for fig, value in pairs(totals) do
        if fig ~= "macs" and fig ~= "peak_activation_bytes" then
          n = n + 1
          assert.are.equal(value, sums.csv[fig], fig)
          assert.are.equal(value, sums.depth0[fig], fig)
        end
      end
      assert.is_true(n >= 9, n)
      assert.are.equal(totals.peak_activation_bytes, sums.peak.peak_activation_bytes)
    end)
  end

  it("gives the published parameter counts and Llama's matmul FLOPs by hand", function ()
    local llama = python_sums(analyze("--model-json", "models/llama-2-7b-hf.json", "--format", "csv"))
    local T, d, ff, L, V = 2048, 4096, 11008, 32, 32000
    -- per layer q,k,v,o (d x d) and gate, up, down (d x ff), QK^T and PV over T x T; lm_head;
    -- rotary_emb's inv_freq @ position_ids over T positions of head_dim 128
    assert.are.equal(L * (2 * T * (4 * d * d + 3 * d * ff) + 2 * 2 * T * T * d) + 2 * T * d * V + T * 128,
      llama.csv.matmul_flops)
    assert.are.equal(6738415616, llama.csv.params)
    local mixtral = python_sums(analyze("--model-json", "models/mixtral-8x7b-v0.1.json", "--format", "csv"))
    assert.are.equal(46702792704, mixtral.csv.params)
  end)

  for _, case in ipairs({ CASES[1], CASES[2] }) do
    it("sums right with pandas, df[df.basic].flops_total.sum() (docs/csv.md): " .. case[1], function ()
      local sums, missing = python_sums(analyze_as(case[2], "csv"))
      if missing then
        pending("pandas is not installed (apt install python3-pandas): " .. missing)
        return
      end
      assert.are.equal("bool", sums.dtype.basic)
      assert.are.equal("int64", sums.dtype.flops_total)
      local totals = lmp.json_decode(analyze_as(case[2], "json")).totals
      for _, fig in ipairs({ "flops", "matmul_flops", "params", "active_params", "reads_bytes", "writes_bytes",
                             "intermediates_bytes", "weight_bytes", "state_bytes" }) do
        assert.are.equal(totals[fig], sums.pandas[fig], fig)
      end
    end)
  end
end)
