-- Mamba2Mixer.ssd against PyTorch: ssd_torch.py runs the scan of transformers' Mamba2Mixer.torch_forward op for
-- op under a TorchDispatchMode (the chunked SSD and the one-token recurrence, at small odd sizes, padded and
-- unpadded, 1 to 3 groups) and counts its contractions' products and its elementwise ops; lmp's calculator
-- must give the same matmul_flops and the same elementwise FLOPs (flops - matmul_flops).
local lmp = require "lmp"

local SCRIPT = "spec/calculators/ssd_torch.py"
local NAME = "transformers.models.mamba2.modeling_mamba2.Mamba2Mixer.ssd"

local function python_with_torch()
  for _, py in ipairs({ "/usr/bin/python3", "python3" }) do
    if os.execute(py .. " -c 'import torch' >/dev/null 2>&1") then return py end
  end
end

describe("Mamba2Mixer.ssd against PyTorch", function ()
  local py = python_with_torch()
  if not py then
    pending("python3-torch is not installed (apt-get install python3-torch): the scan is checked by hand only")
    return
  end
  local pipe = io.popen(py .. " " .. SCRIPT .. " 2>&1")
  local text = pipe:read("a")
  pipe:close()
  local rows = lmp.json_decode(text, SCRIPT)

  it("runs every case", function () assert.are.equal(8, #rows) end)

  for _, row in ipairs(rows) do
    local p = { batch_size = row.batch_size, seq_len = row.seq_len, kv_len = row.kv_len, num_heads = row.num_heads,
                head_dim = row.head_dim, state_size = row.state_size, n_groups = row.n_groups,
                chunk_size = row.chunk_size }
    local label = ("B %d, T %d, kv %d, H %d, P %d, N %d, G %d, Q %d"):format(p.batch_size, p.seq_len, p.kv_len,
      p.num_heads, p.head_dim, p.state_size, p.n_groups, p.chunk_size)
    it("counts what torch_forward computes at " .. label, function ()
      local mm = lmp.compute_matmul_flops(NAME, p)
      assert.are.same({ row.matmul, row.elementwise }, { mm, lmp.compute_flops(NAME, p) - mm })
    end)
  end
end)
