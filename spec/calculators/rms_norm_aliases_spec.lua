-- MistralRMSNorm, MixtralRMSNorm, Qwen2RMSNorm, T5LayerNorm and the Qwen3, Qwen2-MoE, Qwen3-MoE,
-- OLMo2, Granite, Phi-3 and DeepSeek-V2/V3 RMSNorms compute what LlamaRMSNorm
-- computes (transformers copies it), so their calculator files are aliases of it
-- (same_as). Each must answer by its own name and key with LlamaRMSNorm's figures.
local lmp = require "lmp"

local ALIASES = {
  { "transformers.models.mistral.modeling_mistral.MistralRMSNorm", "transformers_MistralRMSNorm" },
  { "transformers.models.mixtral.modeling_mixtral.MixtralRMSNorm", "transformers_MixtralRMSNorm" },
  { "transformers.models.qwen2.modeling_qwen2.Qwen2RMSNorm", "transformers_Qwen2RMSNorm" },
  { "transformers.models.t5.modeling_t5.T5LayerNorm", "transformers_T5LayerNorm" },
  { "transformers.models.qwen3.modeling_qwen3.Qwen3RMSNorm", "transformers_Qwen3RMSNorm" },
  { "transformers.models.qwen2_moe.modeling_qwen2_moe.Qwen2MoeRMSNorm", "transformers_Qwen2MoeRMSNorm" },
  { "transformers.models.qwen3_moe.modeling_qwen3_moe.Qwen3MoeRMSNorm", "transformers_Qwen3MoeRMSNorm" },
  { "transformers.models.olmo2.modeling_olmo2.Olmo2RMSNorm", "transformers_Olmo2RMSNorm" },
  { "transformers.models.granite.modeling_granite.GraniteRMSNorm", "transformers_GraniteRMSNorm" },
  { "transformers.models.phi3.modeling_phi3.Phi3RMSNorm", "transformers_Phi3RMSNorm" },
  { "transformers.models.deepseek_v2.modeling_deepseek_v2.DeepseekV2RMSNorm", "transformers_DeepseekV2RMSNorm" },
  { "transformers.models.deepseek_v3.modeling_deepseek_v3.DeepseekV3RMSNorm", "transformers_DeepseekV3RMSNorm" },
}

for _, alias in ipairs(ALIASES) do
  local name, key = alias[1], alias[2]
  describe(name, function ()
    it("prices a 4096-wide norm over 2048 rows as LlamaRMSNorm does", function ()
      local norm = { N = 2048, hidden_size = 4096 }
      -- 2048*4096 = 8,388,608 elements * (rmsnorm 3 + weight 1) = 33,554,432
      assert.are.equal(33554432, lmp.compute_flops(name, norm))
      assert.are.equal(33554432, lmp.compute_flops(key, norm))
      assert.are.equal(4096, lmp.compute_params(name, norm))
      -- reads: input 8,388,608*2 = 16,777,216 + weight 4096*2 = 8,192; writes 16,777,216
      assert.are.same({ reads = 16785408, writes = 16777216, intermediates = 0, weights = 8192, state = 0 },
        lmp.compute_memory(name, norm))
      -- backward: 8,388,608 * (6 + 2) = 67,108,864
      assert.are.same({ flops = 67108864, matmul_flops = 0 }, lmp.compute_backward(name, norm))
    end)

    it("reads no weights with no rows, and names itself in errors", function ()
      local m = lmp.compute_memory(name, { N = 0, hidden_size = 512 })
      assert.are.equal(0, m.reads)
      assert.are.equal(0, m.weights)
      assert.error_matches(function () lmp.compute_flops(name, { N = 1 }) end, "missing parameter 'hidden_size'", 1, true)
    end)
  end)
end

describe("same_as", function ()
  it("is shown by lmp module show and refused when it names nothing", function ()
    local h = require "spec.helpers"
    local out = h.run("module", "show", ALIASES[1][1])
    assert.matches("same as     transformers.models.llama.modeling_llama.LlamaRMSNorm", out, 1, true)
    local dir = h.tmpdir()
    local f = assert(io.open(dir .. "/spec_dangling.lua", "w"))
    f:write('return { full_class_name = "spec.Dangling", same_as = "spec.Nowhere" }')
    f:close()
    local _, err, code = h.run("module", "flops", "spec.Dangling", "N=1", "--modules", dir)
    assert.are.equal(3, code)
    assert.matches("same_as names spec.Nowhere, which has no calculator", err, 1, true)
  end)
end)
