-- The command line, run as a user runs it: exit codes, one-line errors, every format.
local lmp = require "lmp"
local h = require "spec.helpers"

local LLAMA = "models/llama-2-7b-hf.json"

describe("lmp CLI", function ()
  it("prints help and version", function ()
    local out, _, code = h.run("--help")
    assert.are.equal(0, code)
    assert.matches("lmp analyze MODEL [options]", out, 1, true)
    out, _, code = h.run("--version")
    assert.are.equal(0, code)
    assert.matches("^lmp %d+%.%d+%.%d+", out)
  end)

  it("analyses Llama-2-7B as JSON with exact integers", function ()
    local out, err, code = h.run("analyze", "--model-json", LLAMA, "--format", "json")
    assert.are.equal(0, code, err)
    local r = lmp.json_decode(out)
    assert.are.equal("meta-llama/Llama-2-7b-hf", r.model_id)
    assert.are.equal(6738415616, r.totals.params)
    -- 2*2048*6,607,077,376 (Linear weights incl. lm_head) + 4*32*2048^2*4096 + rotary_emb 2048*128
    assert.are.equal(27062588932096 + 2199023255552 + 262144, r.totals.matmul_flops)
    assert.are.equal(r.totals.matmul_flops // 2, r.totals.macs)
    assert.are.same({}, r.unknown_modules)
    assert.are.same({ batch_size = 1, seq_len = 2048, kv_len = 0, enc_len = 2048, logits_len = 2048, phase = "prefill",
                      w_bits = 16, a_bits = 16, kv_bits = 16, attention = "sdpa" }, r.inputs)
    assert.are.equal("model", r.tree[1].name)
    assert.are.equal(32, r.tree[1].children[2]["repeat"])
  end)

  it("analyses a decode step", function ()
    local out, err, code = h.run("analyze", "--model-json", LLAMA, "--phase", "decode", "--kv-len", "2047", "--format", "json")
    assert.are.equal(0, code, err)
    local r = lmp.json_decode(out)
    -- 2*1*6,607,077,376 + 4*32*1*1*2048*4096 + rotary_emb 1*128 = 13,214,154,752 + 1,073,741,824 + 128
    assert.are.equal(14287896704, r.totals.matmul_flops)
    assert.are.equal(1, r.inputs.seq_len)
    assert.are.equal("decode", r.inputs.phase)
  end)

  it("runs generate and train from the command line", function ()
    local cfg = h.CONFIGS .. "meta-llama--Llama-2-7b-hf.json"
    local out, err, code = h.run("analyze", "--config", cfg, "--phase", "generate", "--seq", "2048",
      "--new-tokens", "100", "--format", "json", "--depth", "1")
    assert.are.equal(0, code, err)
    local r = lmp.json_decode(out)
    -- as derived in spec/phases: prefill (lm_head over the last prompt token) + 99 decode steps
    assert.are.equal(30142100681088, r.totals.matmul_flops)
    assert.are.equal("generate", r.inputs.phase)
    assert.are.equal(100, r.inputs.new_tokens)
    assert.are.equal(28725003681792, r.steps.prefill.matmul_flops)
    assert.are.equal(1, r.inputs.logits_len)
    out, err, code = h.run("analyze", "--config", cfg, "--phase", "train", "--seq", "2048", "--depth", "1")
    assert.are.equal(0, code, err)
    assert.matches("of which backward", out, 1, true)
    assert.matches("optimizer %(Adam%)%s+80,860,987,392", out) -- 6,738,415,616 * 12
    assert.matches("kv_cache%s+0 ", out) -- training runs without a cache
  end)

  it("prints a readable tree with exact totals", function ()
    local out, _, code = h.run("analyze", "--model-json", LLAMA, "--depth", "2")
    assert.are.equal(0, code)
    assert.matches("layers%s+LlamaDecoderLayer%s+x32", out)
    assert.matches("params%s+6,738,415,616", out)
    assert.is_nil(out:find("q_proj", 1, true)) -- depth 2 hides the attention's children
  end)

  it("warns when the context is longer than the model's positions, and still reports", function ()
    local out, err, code = h.run("analyze", "--model-json", "models/gpt2.json", "--seq", "1025", "--format", "json")
    assert.are.equal(0, code)
    assert.are.equal("lmp: warning: 1025 tokens exceed the model's 1024 positions (config n_positions)\n", err)
    assert.are.equal(124439808, lmp.json_decode(out).totals.params)
    err = select(2, h.run("analyze", "--model-json", "models/gpt2.json", "--seq", "1024", "--format", "json"))
    assert.are.equal("", err)
  end)

  it("writes CSV and markdown", function ()
    local out, _, code = h.run("analyze", "--model-json", "models/gpt2.json", "--format", "csv", "--depth", "1")
    assert.are.equal(0, code)
    assert.matches("^path,depth,name,class,basic,repeat,active,instances,active_instances,weight_instances,flops,", out)
    assert.matches("\ntransformer,0,transformer,transformers.models.gpt2.modeling_gpt2.GPT2Model,false,1,1,1,1,1,%d+,%d+,124439808,124439808,", out)
    out, _, code = h.run("analyze", "--model-json", "models/gpt2.json", "--format", "markdown", "--depth", "1")
    assert.are.equal(0, code)
    assert.matches("| **total** |", out, 1, true)
  end)

  it("reports unknown modules, still prints the rest, and exits 1", function ()
    local path = h.model('[{"name": "fc", "class": "torch.nn.modules.linear.Linear", "parameters": ' ..
      '{"N": 2, "in_features": 3, "out_features": 4, "bias": false}}, {"name": "odd", "class": "some.lib.Mystery"}]')
    local out, err, code = h.run("analyze", "--model-json", path, "--format", "json")
    os.remove(path)
    assert.are.equal(1, code)
    local r = lmp.json_decode(out)
    assert.are.same({ { class = "some.lib.Mystery", count = 1 } }, r.unknown_modules)
    assert.are.equal(48, r.totals.matmul_flops) -- 2*2*3*4
    assert.matches("analysis incomplete: no calculator for some.lib.Mystery", err, 1, true)
  end)

  it("gives one-line errors and exit 2 for bad usage and bad input", function ()
    local cases = {
      { { "analyze" }, "analyze: name one model: MODEL (a file, a folder or ORG/NAME), --model-json FILE" },
      { { "analyze", "--model-json", LLAMA, "--phase", "generate" }, "--new-tokens N goes with --phase generate" },
      { { "analyze", "--model-json", LLAMA, "--phase", "train", "--kv-len", "5" }, "starts from an empty KV cache" },
      { { "analyze", "--config", "/nonexistent" }, "/nonexistent: cannot open" },
      { { "analyze", "--model-json", LLAMA, "--batch", "x" }, "analyze: --batch expects a non-negative integer such as 512 or 8k" },
      { { "analyze", "--model-json", LLAMA, "--bogus", "1" }, "unknown option --bogus" },
      { { "analyze", "--model-json", LLAMA, "--format", "xml" }, "--format must be table, json, csv or markdown" },
      { { "analyze", "--model-json", LLAMA, "--phase", "decode" }, "--phase decode needs --kv-len" },
      { { "analyze", "--model-json", "/nonexistent.json" }, "/nonexistent.json: cannot open" },
      { { "frobnicate" }, nil },
      { { "module", "flops", "torch_Linear", "N=1" }, "missing parameter" },
      { { "module", "show", "some.lib.Mystery" }, "no calculator for some.lib.Mystery" },
    }
    for _, c in ipairs(cases) do
      local _, err, code = h.run(table.unpack(c[1]))
      assert.are.equal(2, code, table.concat(c[1], " ") .. " -> " .. err)
      if c[2] then assert.matches(c[2], err, 1, true) end
      assert.are.equal(1, select(2, err:gsub("\n", "")), "not one line: " .. err)
      assert.matches("^lmp: ", err)
    end
  end)

  it("names the JSON path for a malformed model and a missing parameter", function ()
    local path = h.model('[{"name": "fc", "class": "torch.nn.modules.linear.Linear", "parameters": {"N": 2}}]')
    local _, err, code = h.run("analyze", "--model-json", path)
    assert.are.equal(2, code)
    assert.matches(path .. ": $.layers[0] (fc): missing parameters 'in_features', 'out_features' for ", err, 1, true)
    os.remove(path)
    path = h.write('{"layers": [{"name": "fc", "class": 42}]}')
    _, err, code = h.run("analyze", "--model-json", path)
    assert.are.equal(2, code)
    assert.matches(path .. ":1:37: $.layers[0].class: expected a string, got an integer", err, 1, true)
    os.remove(path)
  end)

  it("exits 3 when a calculator misbehaves", function ()
    local path = h.model('[{"name": "n", "class": "spec.Negative", "parameters": {"N": 1}}]')
    local _, err, code = h.run("analyze", "--modules", h.fixtures .. "/modules", "--model-json", path)
    os.remove(path)
    assert.are.equal(3, code)
    assert.matches("$.layers[0] (n): ", err, 1, true)
    assert.matches("flops() returned -1, a negative value", err, 1, true)
  end)

  it("runs one calculator from the shell", function ()
    -- 2*10*512*1024 = 10,485,760; no bias
    local out, _, code = h.run("module", "flops", "torch.nn.modules.linear.Linear", "N=10", "in_features=512",
      "out_features=1024", "bias=false")
    assert.are.equal(0, code)
    assert.are.equal("flops 10485760\nmatmul_flops 10485760\n", out)
    -- reads 10*512*2 + 512*1024*2 = 10,240 + 1,048,576; writes 10*1024*2 = 20,480
    out, _, code = h.run("module", "memory", "torch_Linear", "N=10", "in_features=512", "out_features=1024", "bias=false")
    assert.are.equal(0, code)
    assert.are.equal("reads 1058816\nwrites 20480\nintermediates 0\n", out)
  end)

  it("shows and lists calculators", function ()
    local out, _, code = h.run("module", "show", "torch_Linear")
    assert.are.equal(0, code)
    assert.matches("class       torch.nn.modules.linear.Linear", out, 1, true)
    assert.matches("in_features%s+int >= 1", out)
    assert.matches("flops%s+2 %* %${N}", out)
    out, _, code = h.run("module", "list")
    assert.are.equal(0, code)
    assert.matches("torch_Linear%s+torch.nn.modules.linear.Linear%s+bundled", out)
    out = h.run("module", "list", "--modules", h.fixtures .. "/modules")
    assert.matches("spec_Scale%s+spec.Scale%s+user ", out)
  end)

  it("checks module_db.json against the calculators", function ()
    local out, _, code = h.run("db", "check")
    assert.are.equal(0, code, out)
    assert.matches("ok    torch_Linear", out, 1, true)
    assert.matches("%d+ entries, 0 failed", out)
  end)

  it("fails db check when an entry disagrees with its calculator", function ()
    local text = lmp.core.read_file("module_db.json")
    -- break the Linear flops formula: drop the factor 2
    local broken = text:gsub('"2 %* %${N} %* %${in_features} %* %${out_features} %+', '"${N} * ${in_features} * ${out_features} +', 1)
    assert.are_not.equal(text, broken)
    local path = h.write(broken)
    local out, _, code = h.run("db", "check", "--db", path)
    os.remove(path)
    assert.are.equal(4, code)
    assert.matches("FAIL  torch_Linear%s+flop_analysis.calculation_formula gives %d+ but the calculator's flops gives %d+", out)
  end)

  it("runs Lua scripts like the lua interpreter, with the lmp API", function ()
    local path = h.write('print(select("#", ...), arg[0] ~= nil, lmp.version ~= nil); os.exit(5)', ".lua")
    local out, _, code = h.run(path, "a", "b")
    os.remove(path)
    assert.are.equal("2\ttrue\ttrue\n", out)
    assert.are.equal(5, code)
    out = h.run("-e", "print(lmp.compute_params('torch_Linear', {N=1, in_features=3, out_features=5, bias=true}))")
    assert.are.equal("20\n", out) -- 3*5 + 5
  end)
end)

describe("lmp as a Lua interpreter", function ()
  it("prints warnings only with -W", function ()
    local _, err = h.run("-e", "warn('careful')")
    assert.are.equal("", err)
    _, err = h.run("-W", "-e", "warn('careful')")
    assert.are.equal("Lua warning: careful\n", err)
  end)
end)

describe("README", function ()
  it("shows what lmp analyze really prints", function ()
    local readme = lmp.core.read_file("README.md")
    local cmd = "$ build/lmp analyze models/llama-2-7b-hf.json --depth 2\n"
    local at = assert(readme:find(cmd, 1, true), "the README's example is gone")
    local shown = readme:sub(at + #cmd):match("^(.-)  %.%.%.\n")
    local out = h.run_env({ COLUMNS = "" }, "analyze", "models/llama-2-7b-hf.json", "--depth", "2")
    assert.are.equal(shown, out:sub(1, #shown))
  end)
end)
