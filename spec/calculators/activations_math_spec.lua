-- The activation calculators price the right math: activations_math.py evaluates each class's
-- forward and backward one counted operation at a time, against PyTorch's function for it (or
-- the forward as transformers writes it) and its autograd gradient, at 3001 points in [-15, 15].
-- The operations counted must be the FLOPs per element lmp charges, and the values must agree.
-- (FlopCounterMode counts no elementwise work: these costs are lmp's documented convention.)
local lmp = require "lmp"

local SCRIPT = "spec/calculators/activations_math.py"

local function python_with_torch()
  for _, py in ipairs({ "/usr/bin/python3", "python3" }) do
    if os.execute(py .. " -c 'import torch' >/dev/null 2>&1") then return py end
  end
end

describe("activation formulas against PyTorch", function ()
  local py = python_with_torch()
  if not py then
    pending("python3-torch is not installed (apt-get install python3-torch): the costs are checked by hand only")
    return
  end
  local pipe = io.popen(py .. " " .. SCRIPT .. " 2>&1")
  local text = pipe:read("a")
  pipe:close()
  local rows = lmp.json_decode(text, SCRIPT)
  local classes = {}
  for class in pairs(rows) do classes[#classes + 1] = class end
  table.sort(classes)

  it("covers every class the ACT2FN map names (and torch's GELU family)", function ()
    local common = require "lmp.builders.common"
    for key, class in pairs(common.ACTIVATIONS) do
      -- PytorchGELUTanh is GELUTanh under its older name
      local checked = class:gsub("PytorchGELUTanh$", "GELUTanh")
      assert.is_table(rows[checked], key .. " -> " .. class)
    end
  end)

  for _, class in ipairs(classes) do
    local row = rows[class]
    it(class .. ": its counted forward is PyTorch's, at the FLOPs lmp charges", function ()
      assert.is_true(row.error < 1e-12, ("%s differs by %g"):format(class, row.error))
      assert.are.equal(row.flops, lmp.compute_flops(class, { numel = 1 }))
      if row.backward then
        assert.is_true(row.grad_error < 1e-12, ("%s's gradient differs by %g"):format(class, row.grad_error))
        assert.are.equal(row.backward, lmp.compute_backward(class, { numel = 1 }).flops)
      end
    end)
  end
end)
