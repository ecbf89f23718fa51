-- A layer with no rows (the builders' N = 0 or batch_size = 0: it does not run in this step) reads no
-- weights; `lmp db check` samples never have zero rows, so this checks each entry's reads and weights
-- formulas against its calculator on a zero-row sample too.
local db = require "lmp.db"

local ZERO = {
  torch_Conv1d = { batch_size = 0, in_channels = 4, out_channels = 8, kernel_size = 3, stride = 1, padding = 1,
                   dilation = 1, groups = 2, bias = true, length = 9, w_bits = 4, a_bits = 16 },
  torch_Conv2d = { batch_size = 0, in_channels = 3, out_channels = 64, kernel_h = 7, kernel_w = 7, stride_h = 2,
                   stride_w = 2, padding_h = 3, padding_w = 3, dilation_h = 1, dilation_w = 1, groups = 1,
                   bias = true, height = 224, width = 224, w_bits = 16, a_bits = 16 },
  torch_LayerNorm = { N = 0, normalized_shape = 768, elementwise_affine = true, bias = true, a_bits = 16, w_bits = 16 },
  torch_Linear = { N = 0, in_features = 5, out_features = 7, bias = true, w_bits = 4, a_bits = 16 },
  torch_RMSNorm = { N = 0, normalized_shape = 4096, elementwise_affine = true, a_bits = 16, w_bits = 16 },
  transformers_Conv1D = { N = 0, nx = 768, nf = 2304, w_bits = 16, a_bits = 16 },
  transformers_FalconLinear = { N = 0, in_features = 4544, out_features = 4672, bias = true, w_bits = 8, a_bits = 16 },
  transformers_GemmaRMSNorm = { N = 0, hidden_size = 2048, a_bits = 16, w_bits = 16 },
  transformers_LlamaRMSNorm = { N = 0, hidden_size = 4096, a_bits = 16, w_bits = 16 },
  transformers_MistralRMSNorm = { N = 0, hidden_size = 4096, a_bits = 16, w_bits = 16 },
  transformers_MixtralRMSNorm = { N = 0, hidden_size = 4096, a_bits = 16, w_bits = 16 },
  transformers_Qwen2RMSNorm = { N = 0, hidden_size = 3584, a_bits = 16, w_bits = 16 },
  transformers_T5LayerNorm = { N = 0, hidden_size = 512, a_bits = 16, w_bits = 16 },
}

describe("module_db.json with no rows", function ()
  local entries = db.load("module_db.json")
  local keys = {}
  for key in pairs(ZERO) do keys[#keys + 1] = key end
  table.sort(keys)
  for _, key in ipairs(keys) do
    it(key .. ": the formulas agree with the calculator on a zero-row sample", function ()
      local problems = db.check_entry(entries, key, nil, { ZERO[key] })
      assert.are.same({}, problems)
    end)
  end
end)
