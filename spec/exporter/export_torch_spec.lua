-- lmp export-torch: a live nn.Module -> model JSON. The expected figures are PyTorch's own:
-- spec/exporter/torch_counts.py sums p.numel() and counts the aten mm/addmm/bmm/baddbmm/
-- convolution ops one forward runs (2 FLOPs a multiply-add) under a TorchDispatchMode; lmp's
-- params and matmul_flops on the exported file must equal them exactly at batch sizes and input
-- sizes the exporter never traced (it fits at batch 1-3 over the 96 sizes up to the default and
-- checks at batch 5, size default + 37). Debian's python3-torch and python3-torchvision
-- (scripts/deps.sh test) are required: without them this spec fails, it does not skip.
local helpers = require "spec.helpers"
local lmp = require "lmp"

local PYTHON = "/usr/bin/python3"
local DECODER = "spec/fixtures/torch/rotary_decoder.py"

local function export(...)
  local out = os.tmpname() .. ".json"
  local args = { "export-torch", ... }
  args[#args + 1], args[#args + 2] = "--out", out
  local _, err, code = helpers.run(table.unpack(args))
  assert(code == 0, "export-torch " .. table.concat({ ... }, " ") .. " failed: " .. err)
  return out, err
end

-- PyTorch's counts at one batch size and input size
local function torch_counts(module, input, batch, size, args)
  local cmd = { helpers.quote(PYTHON), "spec/exporter/torch_counts.py", helpers.quote(module), "--input", input,
                "--batch", batch, "--size", size }
  for _, a in ipairs(args or {}) do cmd[#cmd + 1] = "--arg " .. helpers.quote(a) end
  local out, err, code = helpers.sh(table.concat(cmd, " "))
  assert(code == 0, err)
  return { params = out:match('"params": (%d+)'), matmul_flops = out:match('"matmul_flops": (%d+)') }
end

local function lmp_counts(file, inputs)
  local totals = lmp.analyze(lmp.load_model(file), inputs).totals
  return { params = tostring(totals.params), matmul_flops = tostring(totals.matmul_flops) }
end

describe("lmp export-torch", function ()
  it("torchvision resnet50: params and matmul_flops equal PyTorch's at batches 4, 7 and images 96, 320", function ()
    local file, err = export("torchvision.models.resnet50")
    -- torchvision's published figures: 25,557,032 parameters, 4.09 GFLOPS (multiply-adds) at 224
    assert.truthy(err:find("25,557,032 parameters (PyTorch counts 25,557,032)", 1, true))
    assert.equal("8178368512", lmp_counts(file, { batch_size = 1, image_size = 224 }).matmul_flops)
    for _, b in ipairs({ 4, 7 }) do
      for _, h in ipairs({ 96, 320 }) do
        assert.same(torch_counts("torchvision.models.resnet50", "image", b, h),
                    lmp_counts(file, { batch_size = b, image_size = h }))
      end
    end
  end)

  it("torchvision vit_b_16 (one image size per model): batches 4, 7 at 224, and a 384 model", function ()
    local file, err = export("torchvision.models.vit_b_16")
    assert.truthy(err:find("takes image_size 224 only", 1, true))
    -- published: 86,567,656 parameters, 17.56 GFLOPS (multiply-adds) at 224
    assert.equal(tostring(2 * 17563828224), lmp_counts(file, { batch_size = 1 }).matmul_flops)
    for _, b in ipairs({ 4, 7 }) do
      assert.same(torch_counts("torchvision.models.vit_b_16", "image", b, 224), lmp_counts(file, { batch_size = b }))
    end
    local big = export("torchvision.models.vit_b_16", "--arg", "image_size=384")
    for _, b in ipairs({ 2, 6 }) do
      assert.same(torch_counts("torchvision.models.vit_b_16", "image", b, 384, { "image_size=384" }),
                  lmp_counts(big, { batch_size = b }))
    end
  end)

  it("a hand-written rotary decoder: batches 4, 7 and sequences 200, 300", function ()
    local file = export(DECODER .. ":build")
    for _, b in ipairs({ 4, 7 }) do
      for _, s in ipairs({ 200, 300 }) do
        assert.same(torch_counts(DECODER .. ":build", "tokens", b, s), lmp_counts(file, { batch_size = b, seq_len = s }))
      end
    end
    -- by hand at batch 1, seq 1000 (vocab 1000, width 256, 4 heads of 64, 3 layers, MLP 688):
    -- per layer q, k, v, o 4 * 2*1000*256*256 = 524,288,000; scores and probs.V 2 * 2*4*1000*64*1000
    -- = 1,024,000,000; MLP 3 * 2*1000*256*688 = 1,056,768,000: 2,605,056,000 a layer, x3 = 7,815,168,000;
    -- lm_head 2*1000*256*1000 = 512,000,000; rotary tables inv_freq @ position_ids 2*32*1*1000 = 64,000
    assert.equal(tostring(7815168000 + 512000000 + 64000), lmp_counts(file, { seq_len = 1000 }).matmul_flops)
    -- params: embed 256,000, lm_head 256,000, final norm 512; a layer 4*65,536 + 3*176,128 + 2*512
    assert.equal(tostring(256000 * 2 + 512 + 3 * (4 * 65536 + 3 * 176128 + 1024)), lmp_counts(file, {}).params)
    -- one traced forward has no KV cache: a decode step is refused, not priced as the forward
    local _, err, code = helpers.run("analyze", file, "--phase", "decode", "--kv-len", "10")
    assert.equal(2, code)
    assert.truthy(err:find("has no decode step (encoder_only: no KV cache", 1, true), err)
  end)

  it("--hf ORG/NAME builds the config's model (a stand-in transformers: Debian 12 has none)", function ()
    local hub = helpers.tmpdir()
    os.execute("mkdir -p " .. helpers.quote(hub .. "/acme/tiny"))
    local f = assert(io.open(hub .. "/acme/tiny/config.json", "w"))
    f:write('{"vocab_size": 500, "hidden_size": 128, "num_attention_heads": 2, "num_hidden_layers": 2, ' ..
            '"intermediate_size": 344}')
    f:close()
    local out = os.tmpname() .. ".json"
    local env = { PYTHONPATH = "spec/fixtures/torch/fake_transformers", LMP_FAKE_HUB = hub, LMP_PYTHON = PYTHON }
    local _, err, code = helpers.run_env(env, "export-torch", "--hf", "acme/tiny", "--out", out)
    assert.equal(0, code, err)
    -- params: embed and lm_head 2 * 500*128 = 128,000, final norm 256; a layer q, k, v, o 4 * 128*128 = 65,536,
    -- MLP 3 * 128*344 = 132,096, two norms 512: 198,144, x2 = 396,288
    assert.equal(tostring(128000 + 256 + 396288), lmp_counts(out, {}).params)
    assert.equal("acme/tiny", lmp.load_model(out).model_id)
    _, err, code = helpers.run_env(env, "export-torch", "--hf", "acme/none")
    assert.equal(2, code)
    assert.truthy(err:find("--hf acme/none: AutoConfig.from_pretrained raised OSError", 1, true), err)
  end)

  it("names each class without a calculator and exits 1", function ()
    local out = os.tmpname() .. ".json"
    local _, err, code = helpers.run("export-torch", DECODER .. ":build_softplus", "--out", out)
    assert.equal(1, code)
    assert.truthy(err:find("lmp generate --full-class-name torch.nn.modules.activation.Softplus", 1, true))
    local text = helpers.read_file(out)
    assert.truthy(text:find('"class": "torch.nn.modules.activation.Softplus"', 1, true))
  end)

  it("refuses a size it cannot write as a formula, naming the layer", function ()
    local _, err, code = helpers.run("export-torch", DECODER .. ":build_cubic", "--out", os.tmpname())
    assert.equal(2, code)
    assert.truthy(err:find("layer model.mul", 1, true), err)
  end)

  it("says plainly when the Python has no torch, and when the module is not there", function ()
    local _, err, code = helpers.run_env({ LMP_PYTHON = "/bin/false" }, "export-torch", "torchvision.models.resnet50")
    assert.equal(2, code)
    assert.equal("lmp: export-torch: LMP_PYTHON=/bin/false cannot import torch (install torch there, or unset " ..
      "LMP_PYTHON)\n", err)
    _, err, code = helpers.run("export-torch", "torchvision.models.no_such_model")
    assert.equal(2, code)
    assert.truthy(err:find("'torchvision.models.no_such_model': torchvision.models has no callable 'no_such_model'", 1,
      true), err)
    _, err, code = helpers.run("export-torch")
    assert.equal(2, code)
    assert.truthy(err:find("name one model", 1, true))
  end)
end)
