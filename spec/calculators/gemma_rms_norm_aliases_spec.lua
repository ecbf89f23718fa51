-- Gemma2RMSNorm and Gemma3RMSNorm compute what GemmaRMSNorm computes (x_hat * (1 + weight), in
-- float32), so their calculator files are aliases of it (same_as): each answers by its own name
-- and key with GemmaRMSNorm's figures, worked out here from the formula.
local lmp = require "lmp"

local ALIASES = {
  { "transformers.models.gemma2.modeling_gemma2.Gemma2RMSNorm", "transformers_Gemma2RMSNorm" },
  { "transformers.models.gemma3.modeling_gemma3.Gemma3RMSNorm", "transformers_Gemma3RMSNorm" },
}

for _, alias in ipairs(ALIASES) do
  local name, key = alias[1], alias[2]
  describe(name, function ()
    it("prices a 2304-wide norm over 128 rows: rmsnorm 3 + weight 1 an element, + 2304 for 1 + weight", function ()
      local norm = { N = 128, hidden_size = 2304 }
      -- 128 * 2304 = 294,912 elements * 4 = 1,179,648, + 2,304
      assert.are.equal(1181952, lmp.compute_flops(name, norm))
      assert.are.equal(1181952, lmp.compute_flops(key, norm))
      assert.are.equal(2304, lmp.compute_params(name, norm))
      -- reads: input 294,912 * 2 = 589,824 + weight 2304 * 2 = 4,608; writes 589,824
      assert.are.same({ reads = 594432, writes = 589824, intermediates = 0, weights = 4608, state = 0 },
        lmp.compute_memory(name, norm))
      -- backward: 294,912 * (6 + 2) = 2,359,296
      assert.are.same({ flops = 2359296, matmul_flops = 0 }, lmp.compute_backward(name, norm))
    end)

    it("prices Gemma 3's q_norm: 4 heads of 256 for 128 tokens are 512 rows", function ()
      -- 512 * 256 * 4 + 256 = 524,544
      assert.are.equal(524544, lmp.compute_flops(name, { N = 512, hidden_size = 256 }))
    end)
  end)
end
