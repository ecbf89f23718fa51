-- LlamaRotaryEmbedding (transformers 4.48 to 4.57): the cos/sin tables of a forward's positions,
-- inv_freq @ position_ids (a matmul FlopCounterMode counts) then cos, sin and two scalings. The
-- families' copies (MistralRotaryEmbedding, ...) are aliases of it. rotary_embedding_torch.py runs
-- the forward under a TorchDispatchMode counting bmm/mm as FlopCounterMode does.
local lmp = require "lmp"

local NAME = "transformers.models.llama.modeling_llama.LlamaRotaryEmbedding"

describe(NAME, function ()
  -- Llama-2-7B prefill: head_dim 128 (inv_freq: 64 entries), 2048 positions
  local prefill = { batch_size = 1, seq_len = 2048, head_dim = 128 }

  it("counts the inv_freq @ position_ids matmul and four FLOPs a table value", function ()
    -- [1, 64, 1] x [1, 1, 2048]: 2*1*64*1*2048 = 262,144 (= B*seq*head_dim)
    assert.are.equal(262144, lmp.compute_matmul_flops(NAME, prefill))
    -- + cos, sin and the two * attention_scaling over emb's 1*2048*128 = 262,144 values:
    --   262,144 + 4*262,144 = 1,310,720
    assert.are.equal(1310720, lmp.compute_flops(NAME, prefill))
    assert.are.equal(0, lmp.compute_params(NAME, prefill))
  end)

  it("reads inv_freq and position_ids, writes cos and sin, holds fp32 intermediates", function ()
    local m = lmp.compute_memory(NAME, prefill)
    -- inv_freq 64*4 = 256 B, position_ids 2048*8 = 16,384 B: 16,640
    assert.are.equal(16640, m.reads)
    -- cos, sin 2048*128 at 2 B: 2 * 524,288 = 1,048,576
    assert.are.equal(1048576, m.writes)
    -- fp32: positions 2048 + freqs 2048*64 = 131,072 + emb, cos, sin, scaled cos and sin 5*262,144
    --   = 1,310,720; (2048 + 131,072 + 1,310,720) * 4 = 1,443,840 * 4 = 5,775,360
    assert.are.equal(5775360, m.intermediates)
  end)

  it("counts a decode step's one position per sequence, and no backward (torch.no_grad)", function ()
    local step = { batch_size = 8, seq_len = 1, head_dim = 128 }
    -- 2*8*64*1 = 1,024
    assert.are.equal(1024, lmp.compute_matmul_flops(NAME, step))
    assert.are.same({ flops = 0, matmul_flops = 0 }, lmp.compute_backward(NAME, prefill))
  end)

  it("rounds an odd head_dim up, as arange(0, head_dim, 2) does", function ()
    -- head_dim 3: inv_freq has 2 entries; 2*1*2*9 = 36
    assert.are.equal(36, lmp.compute_matmul_flops(NAME, { batch_size = 1, seq_len = 9, head_dim = 3 }))
  end)

  it("is what PyTorch counts for the forward", function ()
    local py
    for _, candidate in ipairs({ "/usr/bin/python3", "python3" }) do
      if not py and os.execute(candidate .. " -c 'import torch' >/dev/null 2>&1") then py = candidate end
    end
    if not py then return pending("python3-torch is not installed: checked by hand only") end
    local pipe = io.popen(py .. " spec/calculators/rotary_embedding_torch.py 2>&1")
    local text = pipe:read("a")
    pipe:close()
    local rows = lmp.json_decode(text, "rotary_embedding_torch.py")
    assert.are.equal(5, #rows)
    for _, r in ipairs(rows) do
      assert.are.equal(r[4], lmp.compute_matmul_flops(NAME, { batch_size = r[1], seq_len = r[2], head_dim = r[3] }),
        table.concat(r, " "))
    end
  end)
end)

describe("the families' rotary embeddings", function ()
  local FAMILIES = {
    { "mistral", "Mistral" }, { "mixtral", "Mixtral" }, { "qwen2", "Qwen2" }, { "qwen2_moe", "Qwen2Moe" },
    { "qwen3", "Qwen3" }, { "qwen3_moe", "Qwen3Moe" }, { "gemma", "Gemma" }, { "gemma2", "Gemma2" },
    { "gemma3", "Gemma3" }, { "phi", "Phi" }, { "phi3", "Phi3" }, { "falcon", "Falcon" },
    { "gpt_neox", "GPTNeoX" }, { "olmo2", "Olmo2" }, { "granite", "Granite" }, { "starcoder2", "Starcoder2" },
  }
  for _, f in ipairs(FAMILIES) do
    local name = ("transformers.models.%s.modeling_%s.%sRotaryEmbedding"):format(f[1], f[1], f[2])
    it(f[2] .. "RotaryEmbedding is priced as Llama's, by its name and its key", function ()
      local p = { batch_size = 2, seq_len = 3, head_dim = 16 }
      -- 2*2*8*3 = 96
      assert.are.equal(96, lmp.compute_matmul_flops(name, p))
      assert.are.equal(96, lmp.compute_matmul_flops("transformers_" .. f[2] .. "RotaryEmbedding", p))
    end)
  end
end)
