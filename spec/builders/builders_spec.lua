-- The builder framework: model_type dispatch, config errors, export round trip.
local lmp = require "lmp"
local h = require "spec.helpers"

local LLAMA = h.CONFIGS .. "meta-llama--Llama-2-7b-hf.json"

local function config_error(text)
  local path = h.write(text)
  local ok, err = pcall(lmp.load_config, path)
  os.remove(path)
  assert.is_false(ok, "expected an error")
  assert.are.equal(lmp.EXIT.USAGE, err.code, tostring(err))
  return err.message, path
end

describe("builders", function ()
  it("lists the supported model types when one is unknown", function ()
    local msg = config_error('{"model_type": "rwkv", "hidden_size": 4}')
    assert.matches('model_type "rwkv" is not supported (the closest is ', msg, 1, true)
    assert.matches('; supported: ', msg, 1, true)
    for _, t in ipairs({ "llama", "mistral", "mixtral", "qwen2", "gemma", "phi", "falcon" }) do
      assert.matches(t, msg, 1, true)
    end
  end)

  it("names the file and the field for bad configs", function ()
    local llama = lmp.core.json_decode(lmp.core.read_file(LLAMA))
    local function with(field, value)
      local copy = {}
      for k, v in pairs(llama) do copy[k] = v end
      copy[field] = value
      return require("lmp.json").encode(copy)
    end
    local msg, path = config_error(with("hidden_size", "4096"))
    assert.are.equal(path .. ': hidden_size: expected an integer, got "4096"', msg)
    assert.matches("num_hidden_layers: missing (an integer is required)", config_error(with("num_hidden_layers", nil)), 1, true)
    assert.matches("vocab_size: 1000000000000 is beyond", config_error(with("vocab_size", 1000000000000)), 1, true)
    assert.matches("hidden_size: expected an integer >= 1, got 0", config_error(with("hidden_size", 0)), 1, true)
    assert.matches("num_attention_heads: 32 is not a multiple of num_key_value_heads (3)",
      config_error(with("num_key_value_heads", 3)), 1, true)
    assert.matches('no "model_type"', config_error('{"hidden_size": 4}'), 1, true)
    assert.matches("a config is a JSON object", config_error("[1, 2]"), 1, true)
    assert.matches(":1:2: expected a string key", config_error("{,}"), 1, true)
  end)

  it("finds config.json in a folder, and says when there is none", function ()
    local dir = h.tmpdir()
    local err = h.error_of(lmp.load_config, dir)
    assert.matches(dir .. "/config.json: cannot open", err.message, 1, true)
  end)

  it("exports a model JSON that loads back to the same figures", function ()
    local out_path = os.tmpname()
    local _, err, code = h.run("export", "--config", LLAMA, "--model-id", "meta-llama/Llama-2-7b-hf", "--out", out_path)
    assert.are.equal(0, code, err)
    local exported = lmp.analyze(out_path, { seq_len = 512 })
    local built = lmp.analyze(lmp.load_config(LLAMA), { seq_len = 512 })
    os.remove(out_path)
    assert.are.equal("meta-llama/Llama-2-7b-hf", exported.model_id)
    for _, k in ipairs({ "flops", "matmul_flops", "params", "reads_bytes", "writes_bytes", "state_bytes" }) do
      assert.are.equal(built.totals[k], exported.totals[k], k)
    end
    assert.are.equal(6738415616, exported.totals.params)
  end)

  it("agrees with the hand-written Llama-2-7B model of models/", function ()
    -- the bundled file predates the builder; both must give the published count and the
    -- same matmul FLOPs (the builder adds the KV-cache write, which computes nothing)
    local built = lmp.analyze(lmp.load_config(LLAMA), { seq_len = 300 })
    local bundled = lmp.analyze("models/llama-2-7b-hf.json", { seq_len = 300 })
    assert.are.equal(bundled.totals.matmul_flops, built.totals.matmul_flops)
    assert.are.equal(bundled.totals.params, built.totals.params)
  end)
end)

describe("rotary functions", function ()
  it("keep each family's own class name, priced by the one calculator that lists them", function ()
    local cases = {
      { "mistralai--Mistral-7B-v0.1.json", "transformers.models.mistral.modeling_mistral." },
      { "Qwen--Qwen2-7B.json", "transformers.models.qwen2.modeling_qwen2." },
      { "google--gemma-2b.json", "transformers.models.gemma.modeling_gemma." },
      { "microsoft--phi-2.json", "transformers.models.phi.modeling_phi." },
      { "tiiuae--falcon-7b.json", "transformers.models.falcon.modeling_falcon." },
      { "EleutherAI--pythia-160m.json", "transformers.models.gpt_neox.modeling_gpt_neox." },
      { "mistralai--Mixtral-8x7B-v0.1.json", "transformers.models.mixtral.modeling_mixtral." },
      { "Qwen--Qwen3-8B.json", "transformers.models.qwen3.modeling_qwen3." },
      { "Qwen--Qwen1.5-MoE-A2.7B.json", "transformers.models.qwen2_moe.modeling_qwen2_moe." },
      { "Qwen--Qwen3-30B-A3B.json", "transformers.models.qwen3_moe.modeling_qwen3_moe." },
      { "allenai--OLMo-2-1124-7B.json", "transformers.models.olmo2.modeling_olmo2." },
      { "ibm-granite--granite-3.1-2b-instruct.json", "transformers.models.granite.modeling_granite." },
      { "bigcode--starcoder2-3b.json", "transformers.models.starcoder2.modeling_starcoder2." },
      { "microsoft--Phi-3-mini-4k-instruct.json", "transformers.models.phi3.modeling_phi3." },
    }
    for _, c in ipairs(cases) do
      local r = lmp.analyze(lmp.load_config(h.CONFIGS .. c[1]), { seq_len = 16 })
      local rotary = r:find("apply_rotary_pos_emb$")
      assert.are.equal(1, #rotary, c[1])
      assert.are.equal(c[2] .. "apply_rotary_pos_emb", rotary[1].class)
      assert.is_true(r.complete, c[1])
      -- and it costs what Llama's costs for the same shape (3 FLOPs an element of q and k)
      local p = rotary[1].parameters
      assert.are.equal(3 * p.batch_size * p.seq_len * p.head_dim * (p.num_heads + p.num_kv_heads), rotary[1].flops)
    end
  end)

  it("compute the tables once a forward, in the model's rotary_emb, at the rotary width", function ()
    -- transformers 4.48 to 4.57: <Family>Model.rotary_emb, inv_freq @ position_ids, a matmul of
    -- 2 * B * (dims / 2) * seq = B * seq * dims FLOPs (FlopCounterMode's count); at batch 3, seq 16
    -- that is 48 * dims. dims: head_dim, or the rotary part of a partial rotary.
    local cases = {
      { "meta-llama--Llama-2-7b-hf.json", "model", "llama", "Llama", 128 },       -- 4096 / 32
      { "mistralai--Mistral-7B-v0.1.json", "model", "mistral", "Mistral", 128 },
      { "Qwen--Qwen2-7B.json", "model", "qwen2", "Qwen2", 128 },                   -- 3584 / 28
      { "google--gemma-2b.json", "model", "gemma", "Gemma", 256 },                 -- head_dim 256
      { "microsoft--phi-2.json", "model", "phi", "Phi", 32 },                      -- int(80 * 0.4)
      { "tiiuae--falcon-7b.json", "transformer", "falcon", "Falcon", 64 },         -- 4544 / 71
      { "EleutherAI--pythia-160m.json", "gpt_neox", "gpt_neox", "GPTNeoX", 16 },   -- int(64 * 0.25)
      { "mistralai--Mixtral-8x7B-v0.1.json", "model", "mixtral", "Mixtral", 128 },
      { "Qwen--Qwen3-8B.json", "model", "qwen3", "Qwen3", 128 },                   -- head_dim 128
      { "Qwen--Qwen1.5-MoE-A2.7B.json", "model", "qwen2_moe", "Qwen2Moe", 128 },   -- 2048 / 16
      { "Qwen--Qwen3-30B-A3B.json", "model", "qwen3_moe", "Qwen3Moe", 128 },
      { "allenai--OLMo-2-1124-7B.json", "model", "olmo2", "Olmo2", 128 },
      { "ibm-granite--granite-3.1-2b-instruct.json", "model", "granite", "Granite", 64 }, -- 2048 / 32
      { "bigcode--starcoder2-3b.json", "model", "starcoder2", "Starcoder2", 128 }, -- 3072 / 24
      { "microsoft--Phi-3-mini-4k-instruct.json", "model", "phi3", "Phi3", 96 },   -- 3072 / 32
    }
    for _, c in ipairs(cases) do
      local r = lmp.analyze(lmp.load_config(h.CONFIGS .. c[1]), { batch_size = 3, seq_len = 16 })
      local rope = r:find("RotaryEmbedding$")
      assert.are.equal(1, #rope, c[1])
      assert.are.equal(c[2] .. ".rotary_emb", rope[1].path, c[1])
      assert.are.equal(("transformers.models.%s.modeling_%s.%sRotaryEmbedding"):format(c[3], c[3], c[4]), rope[1].class)
      assert.are.equal(48 * c[5], rope[1].matmul_flops, c[1])
      assert.are.equal(1, rope[1]["repeat"], c[1])
    end
    -- the models without rotary: learned or ALiBi positions, T5's relative buckets
    for _, name in ipairs({ "openai-community--gpt2.json", "facebook--opt-125m.json", "bigscience--bloom-560m.json",
                            "google-t5--t5-small.json", "google-bert--bert-base-uncased.json" }) do
      assert.are.same({}, lmp.analyze(lmp.load_config(h.CONFIGS .. name), { seq_len = 16 }):find("RotaryEmbedding$"), name)
    end
  end)
end)

describe("the shared config checks", function ()
  -- each family's layer-count field; the vocabulary is vocab_size in all of them
  local LAYERS = {
    ["meta-llama--Llama-2-7b-hf.json"] = "num_hidden_layers", ["openai-community--gpt2.json"] = "n_layer",
    ["bigscience--bloom-560m.json"] = "n_layer", ["google-t5--t5-small.json"] = "num_layers",
    ["google-bert--bert-base-uncased.json"] = "num_hidden_layers", ["facebook--opt-125m.json"] = "num_hidden_layers",
    ["tiiuae--falcon-7b.json"] = "num_hidden_layers", ["microsoft--phi-2.json"] = "num_hidden_layers",
    ["EleutherAI--pythia-160m.json"] = "num_hidden_layers",
    ["Qwen--Qwen3-8B.json"] = "num_hidden_layers", ["Qwen--Qwen1.5-MoE-A2.7B.json"] = "num_hidden_layers",
    ["Qwen--Qwen3-30B-A3B.json"] = "num_hidden_layers", ["allenai--OLMo-2-1124-7B.json"] = "num_hidden_layers",
    ["ibm-granite--granite-3.1-2b-instruct.json"] = "num_hidden_layers",
    ["bigcode--starcoder2-3b.json"] = "num_hidden_layers", ["microsoft--Phi-3-mini-4k-instruct.json"] = "num_hidden_layers",
  }
  local function build(file, field, value)
    local cfg = lmp.read_config(h.CONFIGS .. file)
    cfg[field] = value
    return pcall(lmp.build, cfg)
  end

  it("bound layer counts at 2^20 and vocabularies at 2^26 in every family", function ()
    for file, field in pairs(LAYERS) do
      assert.is_true((build(file, field, 1 << 20)), file)
      local ok, err = build(file, field, (1 << 20) + 1)
      assert.is_false(ok, file)
      assert.matches(field .. ": 1048577 is beyond 1048576", err.message, 1, true)
      assert.is_true((build(file, "vocab_size", 1 << 26)), file)
      ok, err = build(file, "vocab_size", (1 << 26) + 1)
      assert.is_false(ok, file)
      assert.matches("vocab_size: 67108865 is beyond 67108864", err.message, 1, true)
    end
  end)
end)
