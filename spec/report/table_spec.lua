-- The table report with names longer than string.format's 99-column widths (found by
-- fuzz_model: a 134-character class name raised "invalid conversion" from report.table).
local lmp = require "lmp"

describe("the table report", function ()
  it("lays out a layer whose name and class are longer than 99 characters", function ()
    local name, class = ("n"):rep(150), "torch.nn.modules.linear." .. ("L"):rep(120)
    local m = lmp.load_model_string(([[{"layers": [{"name": "%s", "class": "%s",
      "parameters": {"N": 2, "in_features": 3, "out_features": 5}}]}]]):format(name, class))
    local text = lmp.analyze(m, { seq_len = 1 }):format("table")
    -- the unknown class is reported, and its row holds the whole name
    assert.matches(name, text, 1, true)
    local header = text:match("\n(layer[^\n]*)\n")
    assert.is_truthy(header)
    assert.are.equal(150 + 2, header:find("class", 1, true) - 1) -- the name column is 150 wide
  end)
end)
