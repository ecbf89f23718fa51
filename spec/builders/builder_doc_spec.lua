-- docs/builders.md: its minimal builder runs as written, and an unsupported model_type names
-- the closest family and the two ways forward.
local lmp = require "lmp"
local h = require "spec.helpers"

-- the first ```lua block of docs/builders.md
local function doc_example()
  local text = assert(h.read_file("docs/builders.md"))
  return assert(text:match("```lua\n(.-)```"), "docs/builders.md has no lua block")
end

describe("docs/builders.md", function ()
  it("its minimal builder builds and analyses a tinylm config", function ()
    local quiet = setmetatable({ print = function () end }, { __index = _G }) -- its print() is for the reader
    local chunk = assert(load(doc_example(), "=docs/builders.md", "t", quiet))
    local result = chunk()
    -- per block: LayerNorm 2 * 64; fc1 64 * 256 + 256; fc2 256 * 64 + 64 = 33,216; two blocks 66,432;
    -- embed 100 * 64 = 6,400 (lm_head tied): 72,832
    assert.are.equal(72832, result.totals.params)
    assert.are.same({}, result.unknown_modules)
    -- and from a config file, as a user's script would after register()
    local path = h.write('{"model_type": "tinylm", "hidden_size": 64, "num_hidden_layers": 2, "vocab_size": 100}')
    assert.are.equal(72832, lmp.analyze((lmp.load_config(path))).totals.params)
    os.remove(path)
  end)

  it("register() refuses a module that is not a builder", function ()
    assert.has_error(function () require("lmp.builders").register({ model_types = {} }) end)
  end)
end)

describe("an unsupported model_type", function ()
  local function message(model_type)
    local path = h.write(('{"model_type": "%s", "hidden_size": 4}'):format(model_type))
    local out, err, code = h.run("analyze", path)
    os.remove(path)
    assert.are.equal("", out)
    assert.are.equal(lmp.EXIT.USAGE, code)
    assert.are.equal(1, select(2, err:gsub("\n", "")), "one line")
    return err, path
  end

  it("names the file, the closest family and the two ways forward, in one line, exit 2", function ()
    local err, path = message("gemma3")
    assert.matches(path .. ': model_type "gemma3" is not supported (the closest is gemma3_text)', err, 1, true)
    assert.matches("`lmp export-torch --hf ORG/NAME`", err, 1, true)
    assert.matches("write a builder (docs/builders.md)", err, 1, true)
    assert.matches("; supported: bert, bloom, deepseek_v2, deepseek_v3, falcon, gemma, gemma2, gemma3_text,", err, 1, true)
  end)

  it("picks the longest shared prefix, then the smallest edit distance", function ()
    local closest = require("lmp.builders").closest
    assert.are.equal("gemma3_text", closest("gemma3"))  -- a prefix of it
    assert.are.equal("gpt_neox", closest("gpt_neo"))
    assert.are.equal("llama", closest("llama3"))        -- it is a prefix of this one (llama4 is not)
    assert.are.equal("llama4", closest("llama4_vision_model")) -- the longest prefix (llama4_text is not one)
    assert.are.equal("mistral", closest("mistral3"))
    assert.are.equal("qwen2", closest("qwen2_vl"))     -- its text backbone, not qwen2_moe (a longer shared prefix)
    assert.are.equal("qwen3", closest("qwen3_vl"))
    assert.are.equal("qwen3_moe", closest("qwen3_moe_x"))
    assert.are.equal("t5", closest("t5gemma"))
    -- no shared prefix: the smallest edit distance
    assert.are.equal("opt", closest("oxt"))
  end)
end)
